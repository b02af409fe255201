/**
 * CRLs of Intel's SGX PKI (PCS API v4: GET /sgx/certification/v4/pckcrl?ca=platform|processor and
 * the Root CA CRL), authenticated before they are believed (RFC 5280 §6.3.3): the CRL parses
 * strictly (src/der/crl.ts), its issuer Name is the issuing CA's subject byte for byte, that CA
 * may sign CRLs (keyUsage cRLSign, §6.3.3 (f)), its ecdsa-with-SHA256 signature verifies under that
 * CA's already-verified key, and `at` lies in [thisUpdate, nextUpdate]. Only then are serials
 * looked up. A CRL that fails any of this makes
 * revocation unknown, which is itself a violation: verification fails closed.
 */

import { toHex } from '../../bytes.js';
import { crlIsCurrent, type ParsedCrl, parseCrl, verifyCrlSignature } from '../../der/crl.js';
import { isSealgateError } from '../../errors.js';
import { type Violation, violation } from '../violations.js';
import { ecdsaP256Scheme } from './ecdsa-p256.js';
import type { VerifiedCert } from './intel-chain.js';
import type { TdxVerifyCache } from './verify-cache.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Parses and authenticates one CRL against its issuer; null (with violations) when it cannot be used. */
export async function authenticateCrl(
  der: Uint8Array | null,
  issuer: VerifiedCert,
  at: Date,
  field: string,
  out: Violation[],
  cache?: TdxVerifyCache,
): Promise<ParsedCrl | null> {
  if (der === null) {
    out.push(violation('crl_invalid', `${field}: missing (revocation cannot be checked)`, { field }));
    return null;
  }
  // A hit means: these exact DER bytes parsed, named this issuer and verified under its key.
  const key = cache && `crl:${issuer.cert.sha256}:${toHex(der)}`;
  let crl = (key ? cache.get<ParsedCrl>(key) : undefined) ?? null;
  if (crl === null) {
    crl = await authenticateSignature(der, issuer, field, out);
    if (crl === null) return null;
    if (key) cache.set(key, crl);
  }
  if (!crlIsCurrent(crl, at)) {
    out.push(
      violation('crl_expired', `${field}: not current at ${at.toISOString()}`, {
        field,
        expected: [crl.thisUpdate.toISOString(), crl.nextUpdate.toISOString()],
        actual: at.toISOString(),
      }),
    );
    return null;
  }
  return crl;
}

/** Parse, issuer name, signature: what does not change with the time of the check. */
async function authenticateSignature(
  der: Uint8Array,
  issuer: VerifiedCert,
  field: string,
  out: Violation[],
): Promise<ParsedCrl | null> {
  let crl: ParsedCrl;
  try {
    crl = parseCrl(der);
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    out.push(violation('crl_invalid', `${field}: ${e.message}`, { field }));
    return null;
  }
  if (!sameBytes(crl.issuer, issuer.cert.subject)) {
    out.push(
      violation('crl_invalid', `${field}: issued by ${crl.issuerText}, not ${issuer.cert.subjectText}`, {
        field,
        expected: issuer.cert.subjectText,
        actual: crl.issuerText,
      }),
    );
    return null;
  }
  if (!issuer.cert.mayCrlSign) {
    out.push(violation('crl_invalid', `${field}: ${issuer.cert.subjectText} may not sign CRLs`, { field }));
    return null;
  }
  if (!(await verifyCrlSignature(crl, ecdsaP256Scheme(issuer.key, issuer.signatures)))) {
    out.push(
      violation('crl_invalid', `${field}: signature does not verify under ${issuer.cert.subjectText}`, {
        field,
      }),
    );
    return null;
  }
  return crl;
}

/** `cert_revoked` for each certificate whose serial the (authenticated) CRL lists. */
export function checkNotRevoked(
  crl: ParsedCrl,
  certs: readonly VerifiedCert[],
  field: string,
  out: Violation[],
): void {
  for (const { cert } of certs) {
    if (crl.revokedSerials.has(cert.serialNumber)) {
      out.push(
        violation('cert_revoked', `${cert.subjectCn} (serial ${cert.serialNumber}) is listed in ${field}`, {
          field,
          actual: cert.serialNumber,
        }),
      );
    }
  }
}
