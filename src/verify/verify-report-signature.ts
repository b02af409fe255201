/**
 * The report's signature (AMD pub. 56860 "SEV Secure Nested Paging Firmware ABI Specification"):
 * Table 23 (rev 1.57) ATTESTATION_REPORT — SIGNATURE_ALGO at 0x034 must be 1, "ECDSA P-384 with
 * SHA-384" (table "Signature Algorithm Encodings"), and the signature at 0x2A0 covers bytes
 * [0x000, 0x2A0). The appendix table "ECDSA P-384 with SHA-384 Signature" lays it out as R (0x00,
 * 72 bytes) then S (0x48, 72 bytes), each little-endian and zero-extended: only the low 48 bytes
 * carry the P-384 scalar, the upper 24 must be zero.
 *
 * This works on the raw bytes at the spec offsets, not on a parsed report, so that the signature is
 * checked on exactly what the firmware signed; the leaf key is imported once by the caller (the
 * tamper tests verify thousands of flipped reports under one key).
 *
 * ECDSA (IEEE P1363 r||s, big-endian) goes through the signature backend (signature-backend.ts:
 * WebCrypto by default, node:crypto in Node), not @noble/curves, whose default `lowS: true`
 * rejects about half of genuine P-384 signatures (ECDSA signatures are not low-S normalized by
 * AMD firmware).
 */
import { SealgateError } from '../errors.js';
import { OFFSET as REPORT_OFFSET, REPORT_SIZE, SIGNED_REGION_END } from '../evidence/snp/layout.js';
import { reportSignatureP1363 } from '../evidence/snp/signature.js';
import type { ParsedCertificate } from './certificates.js';
import { type SignatureBackend, type VerifyKey, webCryptoSignatures } from './signature-backend.js';
import { type Violation, violation } from './violations.js';

const ECDSA_P384_SHA384 = 1;
const COMPONENT = 72;

/**
 * The VCEK/VLEK's public key for ECDSA P-384 verification. Throws `malformed_certificate` when
 * the SubjectPublicKeyInfo is not a P-384 EC key (pub. 57230: VCEKs and VLEKs are ECDSA P-384).
 */
export async function importLeafKey(
  leaf: Pick<ParsedCertificate, 'spki'>,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<VerifyKey> {
  const key = await signatures.importEcdsaSpki(leaf.spki, 'P-384');
  if (key === null) {
    throw new SealgateError('malformed_certificate', 'certificate: public key is not ECDSA P-384');
  }
  return key;
}

/**
 * Verifies the ECDSA P-384/SHA-384 signature of a 1184-byte report under `key`. Returns [] when it
 * verifies, else one `report_signature_invalid` saying why. Throws only for a wrong-size input.
 */
export async function verifyReportSignature(
  report: Uint8Array,
  key: VerifyKey,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<Violation[]> {
  if (!(report instanceof Uint8Array) || report.length !== REPORT_SIZE) {
    throw new SealgateError('invalid_argument', `report signature: expected ${REPORT_SIZE} bytes`);
  }
  const algo = new DataView(report.buffer, report.byteOffset, report.byteLength).getUint32(
    REPORT_OFFSET.SIGNATURE_ALGO,
    true,
  );
  if (algo !== ECDSA_P384_SHA384) {
    return [
      violation(
        'report_signature_invalid',
        `SIGNATURE_ALGO is ${algo}, expected 1 (ECDSA P-384 with SHA-384)`,
        {
          field: 'signatureAlgo',
          expected: ECDSA_P384_SHA384,
          actual: algo,
        },
      ),
    ];
  }
  const rLe = report.subarray(REPORT_OFFSET.SIGNATURE_R, REPORT_OFFSET.SIGNATURE_R + COMPONENT);
  const sLe = report.subarray(REPORT_OFFSET.SIGNATURE_S, REPORT_OFFSET.SIGNATURE_S + COMPONENT);
  // reportSignatureP1363 only reads r and s (its output is new bytes): views, not copies.
  const p1363 = reportSignatureP1363({ rLe, sLe });
  if (p1363 === null) {
    return [
      violation(
        'report_signature_invalid',
        'report signature: r or s has non-zero bytes above the 48-byte P-384 scalar',
        { field: 'signature' },
      ),
    ];
  }
  const ok = await signatures.verifyEcdsa(key, 'SHA-384', p1363, report.subarray(0, SIGNED_REGION_END));
  return ok
    ? []
    : [
        violation('report_signature_invalid', 'report signature does not verify under the VCEK/VLEK key', {
          field: 'signature',
        }),
      ];
}
