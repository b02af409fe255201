/**
 * One OCSP response (RFC 6960) judged for one certificate of an NVIDIA chain — the device chain or
 * a RIM signing chain, whose certificate and issuer the caller already verified (ecdsa-chain.ts).
 * In order, each failure a violation (never a throw):
 *
 *   1. it decodes (der/ocsp.ts), responseStatus is successful (§4.2.1), is id-pkix-ocsp-basic,
 *      and has no critical responseExtension but the nonce (§4.4)                     ocsp_invalid
 *   2. the signer (§4.2.2.2) is the issuing CA itself, or a responder certificate in `certs`
 *      issued by that CA (its signature verifies under the CA's key), carrying
 *      id-kp-OCSPSigning (RFC 5280 §4.2.1.12), no unknown critical extension (§4.2), valid
 *      at `at`; its own revocation is not asked (§4.2.2.2.1 leaves that to policy); ResponderID (§4.2.2.3)
 *      names it by Name or by the SHA-1 of its key
 *   3. signatureAlgorithm is exactly ecdsa-with-SHA384 and the signature over tbsResponseData
 *      verifies under the signer's P-384 key (NVIDIA signs all of it with P-384)  ocsp_signature_invalid
 *   4. a SingleResponse's CertID is this certificate's: hash algorithm, issuerNameHash,
 *      issuerKeyHash, serialNumber (§4.1.1, recomputed under the response's algorithm)  ocsp_invalid
 *   5. when we sent a nonce, the responseExtensions carry exactly it (§4.4.1, RFC 8954)  ocsp_invalid
 *   6. thisUpdate ≤ at + OCSP_CLOCK_SKEW_MS and at ≤ nextUpdate, which must be present
 *      (§4.2.2.1: a response past nextUpdate is unreliable; none means no bound at all)  ocsp_expired
 *   7. certStatus: good; revoked → cert_revoked (any reason, certificateHold included);
 *      unknown → ocsp_status_unknown (§2.2)
 */

import { AsnConvert } from '@peculiar/asn1-schema';
import { ExtendedKeyUsage } from '@peculiar/asn1-x509';
import { constantTimeEqual, toArrayBuffer, toHex } from '../../bytes.js';
import { type Certificate, parseX509Certificate } from '../../der/certificate.js';
import {
  hashNameOf,
  type OcspResponse,
  type OcspSingleResponse,
  ocspCertId,
  parseOcspResponse,
  subjectPublicKeyBits,
} from '../../der/ocsp.js';
import { isSealgateError } from '../../errors.js';
import { type Violation, violation } from '../violations.js';
import { ECDSA_WITH_SHA384, importP384Key, verifyDerEcdsa } from './ecdsa-chain.js';

/** How far a responder's clock may run ahead of ours for thisUpdate (RFC 5019 §4 notes the skew). */
export const OCSP_CLOCK_SKEW_MS = 5 * 60 * 1000;

const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** Critical extensions a responder certificate may carry: keyUsage, basicConstraints, extKeyUsage, ocsp-nocheck. */
const RESPONDER_CRITICAL = new Set(['2.5.29.15', '2.5.29.19', OID_EXT_KEY_USAGE, '1.3.6.1.5.5.7.48.1.5']);

/** RFC 5280 CRLReason names (§5.3.1), for messages. */
const REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  '(7)',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

export type OcspStatus = 'good' | 'revoked' | 'unknown';

export interface OcspCheckInput {
  /** The OCSPResponse, DER. */
  response: Uint8Array;
  cert: Certificate;
  issuer: Certificate;
  at: Date;
  /** The nonce we sent with the request this answers; null for a saved or cached response. */
  nonce: Uint8Array | null;
  /** Where the certificate sits in a verdict, e.g. "chain[2]". */
  field: string;
}

export interface OcspCheck {
  violations: Violation[];
  /** The certificate's status when the response verified (steps 1–6), else null. */
  status: OcspStatus | null;
  nextUpdate: Date | null;
}

function label(cert: Certificate): string {
  return cert.subjectCn ?? cert.subjectText;
}

async function responderMatches(id: OcspResponse['responderId'], cert: Certificate): Promise<boolean> {
  if ('byName' in id) return constantTimeEqual(id.byName, cert.subject);
  const bits = subjectPublicKeyBits(cert.spki);
  const sha1 = new Uint8Array(await crypto.subtle.digest('SHA-1', bits as BufferSource));
  return constantTimeEqual(sha1, id.byKey);
}

function hasOcspSigning(cert: Certificate): boolean {
  const ext = cert.extensions.find((e) => e.oid === OID_EXT_KEY_USAGE);
  if (ext === undefined) return false;
  try {
    return AsnConvert.parse(toArrayBuffer(ext.value), ExtendedKeyUsage).includes(OID_KP_OCSP_SIGNING);
  } catch {
    return false;
  }
}

/** Step 2: the signer's key, or a message saying why there is none we accept. */
async function signerKey(
  r: OcspResponse,
  issuer: Certificate,
  at: Date,
): Promise<{ key: CryptoKey } | { reason: string }> {
  if (await responderMatches(r.responderId, issuer)) {
    const key = await importP384Key(issuer.spki);
    return key ? { key } : { reason: 'the issuing CA has no P-384 key' };
  }
  const issuerKey = await importP384Key(issuer.spki);
  for (const der of r.certs) {
    let c: Certificate;
    try {
      c = await parseX509Certificate(der);
    } catch (e) {
      if (!isSealgateError(e)) throw e;
      continue;
    }
    if (!(await responderMatches(r.responderId, c))) continue;
    if (!constantTimeEqual(c.issuer, issuer.subject))
      return { reason: `responder ${label(c)} is not issued by ${label(issuer)}` };
    const signedByCa =
      issuerKey !== null &&
      constantTimeEqual(c.signatureAlgorithm, ECDSA_WITH_SHA384) &&
      (await verifyDerEcdsa(issuerKey, c.signature, c.tbs));
    if (!signedByCa)
      return { reason: `responder ${label(c)}'s certificate does not verify under ${label(issuer)}` };
    if (!hasOcspSigning(c)) return { reason: `responder ${label(c)} lacks id-kp-OCSPSigning` };
    const unknown = c.criticalExtensions.find((oid) => !RESPONDER_CRITICAL.has(oid));
    if (unknown !== undefined)
      return { reason: `responder ${label(c)} has unknown critical extension ${unknown}` };
    if (at < c.notBefore || at > c.notAfter)
      return { reason: `responder ${label(c)} is not valid at ${at.toISOString()}` };
    const key = await importP384Key(c.spki);
    return key ? { key } : { reason: `responder ${label(c)} has no P-384 key` };
  }
  return { reason: `signed by neither ${label(issuer)} nor a responder certificate it issued` };
}

/** Step 4: the SingleResponse for this certificate, recomputing the CertID under its hash. */
export async function singleResponseFor(
  r: OcspResponse,
  cert: Certificate,
  issuer: Certificate,
): Promise<OcspSingleResponse | null> {
  for (const single of r.responses) {
    let hash: ReturnType<typeof hashNameOf>;
    try {
      hash = hashNameOf(single.certId.hashOid);
    } catch {
      continue;
    }
    const mine = await ocspCertId(cert, issuer, hash);
    if (
      single.certId.serialNumber === mine.serialNumber &&
      constantTimeEqual(single.certId.issuerNameHash, mine.issuerNameHash) &&
      constantTimeEqual(single.certId.issuerKeyHash, mine.issuerKeyHash)
    ) {
      return single;
    }
  }
  return null;
}

function parse(input: OcspCheckInput): { response: OcspResponse } | { violation: Violation } {
  const { field } = input;
  let r: OcspResponse;
  try {
    r = parseOcspResponse(input.response);
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    return { violation: violation('ocsp_invalid', e.message, { field }) };
  }
  if (r.responseStatus !== 0) {
    return {
      violation: violation(
        'ocsp_invalid',
        `the responder answered responseStatus ${r.responseStatus}, not successful`,
        {
          field,
          actual: r.responseStatus,
        },
      ),
    };
  }
  if (r.unknownCriticalExtensions.length > 0) {
    return {
      violation: violation(
        'ocsp_invalid',
        `unknown critical responseExtensions ${r.unknownCriticalExtensions.join(', ')}`,
        {
          field,
        },
      ),
    };
  }
  return { response: r };
}

/** Steps 6–7 on a verified SingleResponse. */
function judge(single: OcspSingleResponse, input: OcspCheckInput): OcspCheck {
  const { at, field, cert } = input;
  const window = `${single.thisUpdate.toISOString()} .. ${single.nextUpdate?.toISOString() ?? '(no nextUpdate)'}`;
  const nextUpdate = single.nextUpdate;
  if (
    nextUpdate === null ||
    single.thisUpdate.getTime() > at.getTime() + OCSP_CLOCK_SKEW_MS ||
    at > nextUpdate
  ) {
    const v = violation(
      'ocsp_expired',
      `OCSP response for ${label(cert)} covers ${window}, not ${at.toISOString()}`,
      {
        field,
        actual: at.toISOString(),
      },
    );
    return { violations: [v], status: null, nextUpdate };
  }
  const s = single.status;
  if (s.kind === 'good') return { violations: [], status: 'good', nextUpdate };
  if (s.kind === 'unknown') {
    const v = violation(
      'ocsp_status_unknown',
      `the responder does not know ${label(cert)} (serial ${cert.serialNumber})`,
      {
        field,
      },
    );
    return { violations: [v], status: 'unknown', nextUpdate };
  }
  const reason = s.reason === null ? 'no reason given' : (REASONS[s.reason] ?? `reason ${s.reason}`);
  const v = violation(
    'cert_revoked',
    `${label(cert)} (serial ${cert.serialNumber}) was revoked at ${s.revocationTime.toISOString()} (${reason})`,
    { field, actual: reason },
  );
  return { violations: [v], status: 'revoked', nextUpdate };
}

export async function checkOcspResponse(input: OcspCheckInput): Promise<OcspCheck> {
  const { field } = input;
  const fail = (v: Violation): OcspCheck => ({ violations: [v], status: null, nextUpdate: null });
  const parsed = parse(input);
  if ('violation' in parsed) return fail(parsed.violation);
  const r = parsed.response;

  const signer = await signerKey(r, input.issuer, input.at);
  if ('reason' in signer)
    return fail(violation('ocsp_signature_invalid', `OCSP response ${signer.reason}`, { field }));
  const algorithmOk = r.signatureOid === OID_ECDSA_WITH_SHA384 && r.signatureParameters === null;
  if (!algorithmOk || !(await verifyDerEcdsa(signer.key, r.signature, r.tbs))) {
    const why = algorithmOk
      ? 'its signature does not verify'
      : `signatureAlgorithm ${r.signatureOid} is not ecdsa-with-SHA384`;
    return fail(
      violation('ocsp_signature_invalid', `OCSP response for ${label(input.cert)}: ${why}`, { field }),
    );
  }

  const single = await singleResponseFor(r, input.cert, input.issuer);
  if (single === null) {
    return fail(
      violation(
        'ocsp_invalid',
        `the OCSP response does not answer for ${label(input.cert)} (serial ${input.cert.serialNumber})`,
        { field },
      ),
    );
  }
  if (input.nonce !== null && (r.nonce === null || !constantTimeEqual(r.nonce, input.nonce))) {
    return fail(
      violation('ocsp_invalid', "the OCSP response does not carry the request's nonce", {
        field,
        expected: toHex(input.nonce),
        actual: r.nonce === null ? null : toHex(r.nonce),
      }),
    );
  }
  return judge(single, input);
}
