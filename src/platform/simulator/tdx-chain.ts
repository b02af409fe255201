/**
 * A SIMULATED Intel SGX PKI for TDX, shaped like Intel's (SGX PCK Certificate and CRL Profile
 * Specification §1; PCS API v4): an ECDSA P-256 "Intel SGX Root CA", an "Intel SGX PCK Platform
 * CA" under it, a "Intel SGX PCK Certificate" carrying the SGX extensions (FMSPC, PCE-ID, TCB
 * components, PCESVN, CPUSVN, PPID) and an "Intel SGX TCB Signing" certificate. The CNs are
 * Intel's (the verifier checks each position's CN); every subject's O and OU say SIMULATED, and the
 * root is a fresh key, so its fingerprint is never Intel's: a manifest trusts it only by naming it
 * with `"simulated": true` in `trustAnchors.tdx`.
 *
 * Unlike the SNP simulator, the CA and TCB Signing keys are kept: Intel's collateral (TCB info, QE
 * identity, CRLs) lives for about a month, so a long-running development stack re-issues it
 * (tdx-collateral.ts). These keys are development keys in a mode-0600 file, never a production path.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { sha256, toArrayBuffer, toHex } from '../../bytes.js';
import { integer, octetString, oidContent, sequence, tlv } from '../../der/write.js';
import { OID_SGX_EXTENSIONS } from '../../evidence/tdx/pck-extensions.js';
import { CN } from '../../verify/tdx/intel-chain.js';

export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

const SIMULATED_DN =
  'OU=SIMULATED (no Intel hardware), O=Sealgate SIMULATED, L=Simulated, ST=Simulated, C=XX';

/** What the PCK certificate says about the simulated platform (SGX extensions). */
export interface SimulatedTdxPlatformInfo {
  /** 6 bytes. */
  fmspc: Uint8Array;
  /** 2 bytes. */
  pceId: Uint8Array;
  /** 16 SGX TCB component SVNs. */
  sgxTcbComponents: number[];
  pceSvn: number;
  /** 16 bytes. */
  cpuSvn: Uint8Array;
  /** 16 bytes. */
  ppid: Uint8Array;
}

export interface TdxDevChain {
  simulated: true;
  /** DER of each certificate. */
  certificates: { root: Uint8Array; pckCa: Uint8Array; pck: Uint8Array; tcbSigning: Uint8Array };
  /** ECDSA P-256 private keys (extractable, so the chain can be saved for a development stack). */
  keys: { root: CryptoKey; pckCa: CryptoKey; pck: CryptoKey; tcbSigning: CryptoKey };
  platform: SimulatedTdxPlatformInfo;
  /** SHA-256 of the root's DER, lower-case hex: what `trustAnchors.tdx` names. */
  rootSha256: string;
}

/** The development platform's SGX TCB: the components of a recent Sapphire Rapids level. */
export const DEV_TDX_PLATFORM: Readonly<SimulatedTdxPlatformInfo> = Object.freeze({
  fmspc: Uint8Array.of(0x5a, 0x1e, 0xa1, 0x5e, 0x00, 0x00),
  pceId: Uint8Array.of(0, 0),
  sgxTcbComponents: [2, 2, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0],
  pceSvn: 13,
  cpuSvn: Uint8Array.of(2, 2, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0),
  ppid: new Uint8Array(16).fill(0x5e),
});

const oid = (dotted: string): Uint8Array => tlv(0x06, oidContent(dotted));
const pair = (suffix: string, value: Uint8Array): Uint8Array =>
  sequence(oid(`${OID_SGX_EXTENSIONS}${suffix}`), value);

/** The SGX extensions' extnValue (pck-extensions.ts decodes exactly this shape). */
export function encodePckExtensions(p: SimulatedTdxPlatformInfo): Uint8Array {
  const tcb = sequence(
    ...p.sgxTcbComponents.map((svn, i) => pair(`.2.${i + 1}`, integer(svn))),
    pair('.2.17', integer(p.pceSvn)),
    pair('.2.18', octetString(p.cpuSvn)),
  );
  return sequence(
    pair('.1', octetString(p.ppid)),
    pair('.2', tcb),
    pair('.3', octetString(p.pceId)),
    pair('.4', octetString(p.fmspc)),
    pair('.5', tlv(0x0a, Uint8Array.of(0))), // SGX Type: Standard
  );
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function serial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, 16 bytes
  return toHex(b);
}

interface Issue {
  subjectCn: string;
  issuerCn: string;
  subjectKey: CryptoKey;
  issuerKey: CryptoKey;
  ca: boolean;
  /** A CA's pathLenConstraint, as Intel's: the root 1, the PCK Platform CA 0 (RFC 5280 §4.2.1.9). */
  pathLen?: number;
  notBefore: Date;
  notAfter: Date;
  extra?: x509.Extension[];
}

async function issue(i: Issue): Promise<Uint8Array> {
  const usage = i.ca
    ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
    : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${i.subjectCn}, ${SIMULATED_DN}`,
    issuer: `CN=${i.issuerCn}, ${SIMULATED_DN}`,
    notBefore: i.notBefore,
    notAfter: i.notAfter,
    publicKey: i.subjectKey,
    signingKey: i.issuerKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(i.ca, i.ca ? i.pathLen : undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      ...(i.extra ?? []),
    ],
  });
  return new Uint8Array(cert.rawData);
}

/** A fresh SIMULATED chain issued at `now` (truncated to the second), valid for `years` (default 10). */
export async function createTdxDevChain(opts: {
  now: Date;
  platform?: SimulatedTdxPlatformInfo;
  years?: number;
}): Promise<TdxDevChain> {
  const notBefore = new Date(Math.floor(opts.now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (opts.years ?? 10) * 365 * 86_400_000);
  const platform = opts.platform ?? DEV_TDX_PLATFORM;
  const [root, pckCa, pck, tcbSigning] = await Promise.all([keyPair(), keyPair(), keyPair(), keyPair()]);
  const at = { notBefore, notAfter };
  const rootDer = await issue({
    subjectCn: CN.root,
    issuerCn: CN.root,
    subjectKey: root.publicKey,
    issuerKey: root.privateKey,
    ca: true,
    pathLen: 1,
    ...at,
  });
  const pckCaDer = await issue({
    subjectCn: CN.pckPlatformCa,
    issuerCn: CN.root,
    subjectKey: pckCa.publicKey,
    issuerKey: root.privateKey,
    ca: true,
    pathLen: 0,
    ...at,
  });
  const sgx = new x509.Extension(OID_SGX_EXTENSIONS, false, toArrayBuffer(encodePckExtensions(platform)));
  const pckDer = await issue({
    subjectCn: CN.pck,
    issuerCn: CN.pckPlatformCa,
    subjectKey: pck.publicKey,
    issuerKey: pckCa.privateKey,
    ca: false,
    extra: [sgx],
    ...at,
  });
  const tcbDer = await issue({
    subjectCn: CN.tcbSigning,
    issuerCn: CN.root,
    subjectKey: tcbSigning.publicKey,
    issuerKey: root.privateKey,
    ca: false,
    ...at,
  });
  return {
    simulated: true,
    certificates: { root: rootDer, pckCa: pckCaDer, pck: pckDer, tcbSigning: tcbDer },
    keys: {
      root: root.privateKey,
      pckCa: pckCa.privateKey,
      pck: pck.privateKey,
      tcbSigning: tcbSigning.privateKey,
    },
    platform,
    rootSha256: toHex(await sha256(rootDer)),
  };
}

/** PEM text of DER certificates, in order (RFC 7468 §5). */
export function pemChain(ders: readonly Uint8Array[]): string {
  return ders
    .map((der) => {
      const b64 = btoa(String.fromCharCode(...der));
      const lines = b64.match(/.{1,64}/g) ?? [];
      return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
    })
    .join('');
}
