/**
 * Chains of Intel's SGX PKI (PCK certificate → PCK Platform/Processor CA → SGX Root CA; TCB
 * Signing → SGX Root CA), after RFC 5280 §6.1 for a fixed path: each certificate issued by the next
 * (issuer = subject byte for byte, ecdsa-with-SHA256 signature, the issuer a CA allowed to sign
 * certificates, within its pathLenConstraint: §4.2.1.9, src/verify/path-length.ts), the last one the SGX Root CA pinned by SHA-256 and self-signed, each within its
 * validity at `at`, and each with the subject CN its position requires ("Intel SGX PCK Profile
 * Specification" §1.1; PCS API v4 for the issuer chains). Findings are violations, never throws.
 */
import { utf8 } from '../../bytes.js';
import { type Certificate, parseX509Certificate } from '../../der/certificate.js';
import { decodeCertificates } from '../../der/pem.js';
import { isSealgateError } from '../../errors.js';
import { pathLengthExceeded, pathLengthText } from '../path-length.js';
import { type SignatureBackend, type VerifyKey, webCryptoSignatures } from '../signature-backend.js';
import { type Violation, violation } from '../violations.js';
import { importSpkiP256, verifyDerSignature } from './ecdsa-p256.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from './intel-root.js';
import type { TdxVerifyCache } from './verify-cache.js';

export const CN = {
  root: 'Intel SGX Root CA',
  pckPlatformCa: 'Intel SGX PCK Platform CA',
  pckProcessorCa: 'Intel SGX PCK Processor CA',
  pck: 'Intel SGX PCK Certificate',
  tcbSigning: 'Intel SGX TCB Signing',
} as const;

/** keyUsage and basicConstraints: the only critical extensions Intel's PKI uses (RFC 5280 §4.2). */
const UNDERSTOOD_CRITICAL = new Set(['2.5.29.15', '2.5.29.19']);

export interface VerifiedCert {
  cert: Certificate;
  key: VerifyKey;
  /** The backend that imported `key`: checks under this certificate use it (a cache may outlive a caller). */
  signatures: SignatureBackend;
}

/**
 * The certificates of a PEM text; null (with `cert_malformed`) when one does not decode, or (with
 * `cert_chain_invalid`) when `expected` is given and the PEM holds another number of blocks: counted
 * before any is parsed or hashed (a 250 KB chain of 263 copies of a certificate doubled the CPU of
 * a verification). The fingerprints are hashed by `signatures` (node:crypto in Node: no
 * thread-pool hop per certificate).
 */
export async function parsePemChain(
  pem: string,
  field: string,
  out: Violation[],
  signatures: SignatureBackend = webCryptoSignatures,
  expected?: number,
): Promise<Certificate[] | null> {
  try {
    const ders = decodeCertificates(utf8.encode(pem));
    if (expected !== undefined && ders.length !== expected) {
      out.push(countViolation(field, expected, ders.length));
      return null;
    }
    const certs: Certificate[] = [];
    const hash = (der: Uint8Array) => signatures.digest('SHA-256', der);
    for (const der of ders) certs.push(await parseX509Certificate(der, hash));
    return certs;
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    out.push(violation('cert_malformed', `${field}: ${e.message}`, { field }));
    return null;
  }
}

function countViolation(field: string, expected: number, actual: number): Violation {
  return violation('cert_chain_invalid', `${field}: expected ${expected} certificates, got ${actual}`, {
    field,
  });
}

function inValidity(c: Certificate, at: Date): boolean {
  const t = at.getTime();
  return c.notBefore.getTime() <= t && t <= c.notAfter.getTime();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function issuedBy(
  child: Certificate,
  issuer: Certificate,
  key: VerifyKey | null,
  signatures: SignatureBackend,
): Promise<boolean> {
  return (
    sameBytes(child.issuer, issuer.subject) &&
    sameBytes(child.signatureAlgorithm, child.tbsSignatureAlgorithm) &&
    (await verifyDerSignature(key, child.signatureAlgorithm, child.signature, child.tbs, signatures))
  );
}

/**
 * The pinned root's self-signature is a fact about fixed bytes (the caller has matched its SHA-256
 * against the pin): verified once per isolate/process and remembered, instead of once per chain
 * (four times per quote). Only a success is remembered.
 */
let rootSelfSignature: Promise<boolean> | undefined;

function pinnedRootSelfSigned(
  root: Certificate,
  key: VerifyKey,
  signatures: SignatureBackend,
): Promise<boolean> {
  if (root.sha256 !== INTEL_SGX_ROOT_CA_SHA256) return issuedBy(root, root, key, signatures);
  if (rootSelfSignature === undefined) {
    const check = issuedBy(root, root, key, signatures);
    rootSelfSignature = check;
    void check.then((ok) => {
      if (!ok) rootSelfSignature = undefined;
    });
  }
  return rootSelfSignature;
}

/** The subject CN(s) allowed at each position of a chain, leaf first. */
export type ChainShape = readonly (string | readonly string[])[];

/**
 * Verifies `certs` (leaf first, root last) against the pinned roots (SHA-256 of the DER; default
 * Intel's only — a manifest's `trustAnchors.tdx` may name the simulator's instead) with `cns` the
 * subject CN each position must have (an array entry lists the CNs allowed there). Returns the
 * certificates with
 * their keys when nothing but dates failed; null when the chain is not Intel's.
 */
export async function verifyIntelChain(
  certs: readonly Certificate[],
  cns: ChainShape,
  at: Date,
  field: string,
  out: Violation[],
  roots: readonly string[] = [INTEL_SGX_ROOT_CA_SHA256],
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<VerifiedCert[] | null> {
  const chain = await checkChainStructure(certs, cns, field, out, roots, signatures);
  if (chain !== null) checkChainDates(chain, at, field, out);
  return chain;
}

/**
 * `verifyIntelChain` of a PEM text, the structural part (parse, signatures, names, flags, anchor)
 * remembered in `cache` under the exact text once it passed; dates are checked on every call.
 */
export async function verifyPemChain(
  pem: string,
  cns: ChainShape,
  at: Date,
  field: string,
  out: Violation[],
  cache?: TdxVerifyCache,
  roots: readonly string[] = [INTEL_SGX_ROOT_CA_SHA256],
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<VerifiedCert[] | null> {
  // The anchors are part of the key: a chain that passed under one set of roots says nothing of another.
  const key = cache && `chain:${roots.join(',')}:${JSON.stringify(cns)}:${pem}`;
  let chain = key ? cache.get<VerifiedCert[]>(key) : undefined;
  if (chain === undefined) {
    const certs = await parsePemChain(pem, field, out, signatures, cns.length);
    const checked = certs && (await checkChainStructure(certs, cns, field, out, roots, signatures));
    if (!checked) return null;
    chain = checked;
    if (key) cache.set(key, chain);
  }
  checkChainDates(chain, at, field, out);
  return chain;
}

/** Everything of RFC 5280 §6.1 for this fixed path but validity dates; null (with violations) when it fails. */
async function checkChainStructure(
  certs: readonly Certificate[],
  cns: ChainShape,
  field: string,
  out: Violation[],
  roots: readonly string[],
  signatures: SignatureBackend,
): Promise<VerifiedCert[] | null> {
  if (certs.length !== cns.length) {
    out.push(countViolation(field, cns.length, certs.length));
    return null;
  }
  const root = certs[certs.length - 1]!;
  if (!roots.includes(root.sha256)) {
    out.push(
      violation('root_untrusted', `${field}: the root is not a pinned SGX Root CA`, {
        field,
        expected: [...roots],
        actual: root.sha256,
      }),
    );
    return null;
  }
  // Keys and signatures are independent of each other: started together, so that WebCrypto jobs
  // run side by side on Node's thread pool; violations are then reported in position order.
  const keys = await Promise.all(certs.map((c) => importSpkiP256(c.spki, signatures)));
  const last = certs.length - 1;
  const signed = await Promise.all(
    certs.map((c, i) =>
      i === last
        ? keys[i] !== null && pinnedRootSelfSigned(c, keys[i]!, signatures)
        : keys[i] !== null && issuedBy(c, certs[i + 1]!, keys[i + 1]!, signatures),
    ),
  );
  let ok = true;
  for (let i = 0; i < certs.length; i++) {
    ok = checkPosition(certs[i]!, i, signed[i]!, cns[i]!, field, out) && ok;
  }
  const tooLong = pathLengthExceeded(certs);
  if (tooLong !== null) {
    out.push(violation('cert_chain_invalid', pathLengthText(field, tooLong), { field }));
    ok = false;
  }
  return ok ? certs.map((cert, i) => ({ cert, key: keys[i]!, signatures })) : null;
}

/** One certificate at position `i`: CN, critical extensions, signed by the next, CA role. */
function checkPosition(
  c: Certificate,
  i: number,
  signedByIssuer: boolean,
  cn: string | readonly string[],
  field: string,
  out: Violation[],
): boolean {
  let ok = true;
  const allowed = typeof cn === 'string' ? [cn] : cn;
  if (c.subjectCn === null || !allowed.includes(c.subjectCn)) {
    out.push(
      violation('cert_chain_invalid', `${field}[${i}]: subject CN is not ${allowed.join(' or ')}`, {
        field,
        expected: allowed,
        actual: c.subjectCn,
      }),
    );
    ok = false;
  }
  const unknownCritical = c.criticalExtensions.filter((oid) => !UNDERSTOOD_CRITICAL.has(oid));
  if (unknownCritical.length > 0) {
    const text = `${field}[${i}]: critical extension(s) not understood: ${unknownCritical.join(', ')}`;
    out.push(violation('cert_chain_invalid', text, { field }));
    ok = false;
  }
  // The PCK and TCB Signing certificates are end entities, not CAs (RFC 5280 §4.2.1.9); every
  // issuer, and a CA at the head of a CRL issuer chain, is a CA allowed to sign certificates.
  const endEntity = c.subjectCn === CN.pck || c.subjectCn === CN.tcbSigning;
  const roleOk = i > 0 || !endEntity ? c.isCa && c.mayCertSign : !c.isCa;
  if (!signedByIssuer || !roleOk) {
    out.push(
      violation(
        'cert_chain_invalid',
        `${field}[${i}] (${c.subjectCn}): not signed by its issuer, or its CA flag wrong for its place`,
        { field },
      ),
    );
    ok = false;
  }
  return ok;
}

/** `cert_expired` for each certificate outside its validity at `at` (RFC 5280 §4.1.2.5). */
function checkChainDates(chain: readonly VerifiedCert[], at: Date, field: string, out: Violation[]): void {
  chain.forEach(({ cert: c }, i) => {
    if (inValidity(c, at)) return;
    out.push(
      violation(
        'cert_expired',
        `${field}[${i}] (${c.subjectCn}) is outside its validity at ${at.toISOString()}`,
        {
          field,
          expected: [c.notBefore.toISOString(), c.notAfter.toISOString()],
          actual: at.toISOString(),
        },
      ),
    );
  });
}
