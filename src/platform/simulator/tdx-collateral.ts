/**
 * SIMULATED Intel collateral for the simulated TDX platform (tdx-chain.ts), in the QuoteCollateralV3
 * shape verify-tdx.ts takes: TCB info v3 for TDX with `tdxModuleIdentities` and QE identity v2
 * (PCS API v4 JSON), each signed over its exact bytes by the simulated TCB Signing key, and the
 * Root CA CRL and PCK Platform CA CRL (RFC 5280 §5, ecdsa-with-SHA256) issued by the simulated CAs.
 * Everything is issued for a window around `now` (issueDate = thisUpdate = now − 1 min, nextUpdate
 * = now + `validDays`), as a PCCS serves collateral a verifier then checks at its own time.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { toArrayBuffer, toHex, utf8 } from '../../bytes.js';
import { parseX509Certificate } from '../../der/certificate.js';
import type { TdxCollateral } from '../../verify/tdx/collateral.js';
import type { TcbStatus } from '../../verify/tdx/tcb-info.js';
import { ECDSA_SHA256, pemChain, type TdxDevChain } from './tdx-chain.js';

/**
 * What the simulated QE and TDX module are, shared by the quote (tdx-quote.ts) and the collateral
 * that judges it. TEE_TCB_SVN byte 1 is the module's major version (1 → identity "TDX_01"), byte 0
 * its SVN; MRSIGNER_SEAM is all zeros, as for Intel's own module.
 */
export const SIMULATED_TDX_TCB = Object.freeze({
  teeTcbSvn: Uint8Array.of(3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
  mrSignerSeam: new Uint8Array(48),
  seamAttributes: new Uint8Array(8),
  qe: Object.freeze({
    mrSigner: new Uint8Array(32).fill(0x5e),
    mrEnclave: new Uint8Array(32).fill(0x7d),
    isvProdId: 2,
    isvSvn: 4,
    miscSelect: 0,
    /** SGX ATTRIBUTES: INIT and MODE64BIT, as Intel's TD QE. */
    attributes: Uint8Array.of(0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
  }),
});

export interface SimulatedCollateralOptions {
  now: Date;
  /** Window length of everything issued, days. Default 30 (Intel's TCB info lives about a month). */
  validDays?: number;
  /** The status of the one platform TCB level. Default UpToDate. */
  tcbStatus?: TcbStatus;
  advisoryIds?: string[];
  /** List the PCK certificate on the PCK CRL. */
  revokePck?: boolean;
}

const iso = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
const upper = (b: Uint8Array): string => toHex(b).toUpperCase();

async function signJson(body: unknown, key: CryptoKey): Promise<{ text: string; signature: Uint8Array }> {
  const text = JSON.stringify(body);
  const sig = await crypto.subtle.sign(ECDSA_SHA256, key, toArrayBuffer(utf8.encode(text)));
  return { text, signature: new Uint8Array(sig) };
}

function tcbInfoBody(chain: TdxDevChain, o: SimulatedCollateralOptions, issue: Date, next: Date): unknown {
  const t = SIMULATED_TDX_TCB;
  const level = (status: TcbStatus, advisories: string[]) => ({
    tcbDate: iso(issue),
    tcbStatus: status,
    ...(advisories.length > 0 ? { advisoryIDs: advisories } : {}),
  });
  return {
    id: 'TDX',
    version: 3,
    issueDate: iso(issue),
    nextUpdate: iso(next),
    fmspc: upper(chain.platform.fmspc),
    pceId: upper(chain.platform.pceId),
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: {
      mrsigner: upper(t.mrSignerSeam),
      attributes: '0000000000000000',
      attributesMask: 'FFFFFFFFFFFFFFFF',
    },
    tdxModuleIdentities: [
      {
        id: 'TDX_01',
        mrsigner: upper(t.mrSignerSeam),
        attributes: '0000000000000000',
        attributesMask: 'FFFFFFFFFFFFFFFF',
        tcbLevels: [{ tcb: { isvsvn: t.teeTcbSvn[0]! }, ...level('UpToDate', []) }],
      },
    ],
    tcbLevels: [
      {
        tcb: {
          sgxtcbcomponents: chain.platform.sgxTcbComponents.map((svn) => ({ svn })),
          pcesvn: chain.platform.pceSvn,
          tdxtcbcomponents: [...t.teeTcbSvn].map((svn) => ({ svn })),
        },
        ...level(o.tcbStatus ?? 'UpToDate', o.advisoryIds ?? []),
      },
    ],
  };
}

function qeIdentityBody(issue: Date, next: Date): unknown {
  const q = SIMULATED_TDX_TCB.qe;
  return {
    id: 'TD_QE',
    version: 2,
    issueDate: iso(issue),
    nextUpdate: iso(next),
    tcbEvaluationDataNumber: 17,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: upper(q.attributes),
    attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: upper(q.mrSigner),
    isvprodid: q.isvProdId,
    tcbLevels: [{ tcb: { isvsvn: q.isvSvn }, tcbDate: iso(issue), tcbStatus: 'UpToDate' }],
  };
}

async function crl(
  issuerDer: Uint8Array,
  issuerKey: CryptoKey,
  thisUpdate: Date,
  nextUpdate: Date,
  revoked: string[],
): Promise<Uint8Array> {
  const issuer = await parseX509Certificate(issuerDer);
  const out = await x509.X509CrlGenerator.create({
    issuer: new x509.Name(toArrayBuffer(issuer.subject)),
    thisUpdate,
    nextUpdate,
    // A reason code, as Intel's entries carry: without one @peculiar/x509 writes an empty
    // crlEntryExtensions, which RFC 5280 §5.1 (SIZE (1..MAX)) and src/der/crl.ts refuse.
    entries: revoked.map((serialNumber) => ({
      serialNumber,
      revocationDate: thisUpdate,
      reason: x509.X509CrlReason.keyCompromise,
    })),
    signingKey: issuerKey,
    signingAlgorithm: ECDSA_SHA256,
  });
  return new Uint8Array(out.rawData);
}

/** Collateral for `chain`'s platform, current from a minute before `now` for `validDays`. */
export async function issueTdxCollateral(
  chain: TdxDevChain,
  o: SimulatedCollateralOptions,
): Promise<TdxCollateral> {
  const issue = new Date(Math.floor(o.now.getTime() / 1000) * 1000 - 60_000);
  const next = new Date(issue.getTime() + (o.validDays ?? 30) * 86_400_000);
  const c = chain.certificates;
  const signerChain = pemChain([c.tcbSigning, c.root]);
  const tcb = await signJson(tcbInfoBody(chain, o, issue, next), chain.keys.tcbSigning);
  const qe = await signJson(qeIdentityBody(issue, next), chain.keys.tcbSigning);
  const pckSerial = (await parseX509Certificate(c.pck)).serialNumber;
  return {
    tcbInfo: tcb.text,
    tcbInfoSignature: tcb.signature,
    tcbInfoIssuerChain: signerChain,
    qeIdentity: qe.text,
    qeIdentitySignature: qe.signature,
    qeIdentityIssuerChain: signerChain,
    rootCaCrl: await crl(c.root, chain.keys.root, issue, next, []),
    pckCrl: await crl(c.pckCa, chain.keys.pckCa, issue, next, o.revokePck ? [pckSerial] : []),
    pckCrlIssuerChain: pemChain([c.pckCa, c.root]),
  };
}
