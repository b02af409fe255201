/**
 * Chains of Intel's SGX PKI (PCK certificate → PCK Platform/Processor CA → SGX Root CA; TCB
 * Signing → SGX Root CA), after RFC 5280 §6.1 for a fixed path: each certificate issued by the next
 * (issuer = subject byte for byte, ecdsa-with-SHA256 signature, the issuer a CA allowed to sign
 * certificates), the last one the SGX Root CA pinned by SHA-256 and self-signed, each within its
 * validity at `at`, and each with the subject CN its position requires ("Intel SGX PCK Profile
 * Specification" §1.1; PCS API v4 for the issuer chains). Findings are violations, never throws.
 */
import { utf8 } from '../../bytes.js';
import { type Certificate, parseX509Certificate } from '../../der/certificate.js';
import { decodeCertificates } from '../../der/pem.js';
import { isSealgateError } from '../../errors.js';
import { type Violation, violation } from '../violations.js';
import { importSpkiP256, verifyDerSignature } from './ecdsa-p256.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from './intel-root.js';

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
  key: CryptoKey;
}

/** The certificates of a PEM text; null (with `cert_malformed`) when one does not decode. */
export async function parsePemChain(
  pem: string,
  field: string,
  out: Violation[],
): Promise<Certificate[] | null> {
  try {
    const ders = decodeCertificates(utf8.encode(pem));
    const certs: Certificate[] = [];
    for (const der of ders) certs.push(await parseX509Certificate(der));
    return certs;
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    out.push(violation('cert_malformed', `${field}: ${e.message}`, { field }));
    return null;
  }
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

async function issuedBy(child: Certificate, issuer: Certificate, key: CryptoKey | null): Promise<boolean> {
  return (
    sameBytes(child.issuer, issuer.subject) &&
    sameBytes(child.signatureAlgorithm, child.tbsSignatureAlgorithm) &&
    (await verifyDerSignature(key, child.signatureAlgorithm, child.signature, child.tbs))
  );
}

/**
 * Verifies `certs` (leaf first, root last) against the pinned roots (SHA-256 of the DER; default
 * Intel's only — a manifest's `trustAnchors.tdx` may name the simulator's instead) with `cns` the
 * subject CN each position must have (an array entry lists the CNs allowed there). Returns the certificates with
 * their keys when nothing but dates failed; null when the chain is not Intel's.
 */
export async function verifyIntelChain(
  certs: readonly Certificate[],
  cns: readonly (string | readonly string[])[],
  at: Date,
  field: string,
  out: Violation[],
  roots: readonly string[] = [INTEL_SGX_ROOT_CA_SHA256],
): Promise<VerifiedCert[] | null> {
  if (certs.length !== cns.length) {
    out.push(
      violation('cert_chain_invalid', `${field}: expected ${cns.length} certificates, got ${certs.length}`, {
        field,
      }),
    );
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
  const keys = await Promise.all(certs.map((c) => importSpkiP256(c.spki)));
  let ok = true;
  for (let i = 0; i < certs.length; i++) {
    const c = certs[i]!;
    const allowed = typeof cns[i] === 'string' ? [cns[i] as string] : (cns[i] as readonly string[]);
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
    const isRoot = i === certs.length - 1;
    const issuer = isRoot ? c : certs[i + 1]!;
    const issuerKey = isRoot ? keys[i]! : keys[i + 1]!;
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
    if (keys[i] === null || !(await issuedBy(c, issuer, issuerKey)) || !roleOk) {
      out.push(
        violation(
          'cert_chain_invalid',
          `${field}[${i}] (${c.subjectCn}): not signed by its issuer, or its CA flag wrong for its place`,
          {
            field,
          },
        ),
      );
      ok = false;
    }
    if (!inValidity(c, at)) {
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
    }
  }
  return ok ? certs.map((cert, i) => ({ cert, key: keys[i]! })) : null;
}
