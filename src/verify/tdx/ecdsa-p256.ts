/**
 * ECDSA P-256 with SHA-256 over the signature backend (../signature-backend.ts: WebCrypto by
 * default, node:crypto in Node), as Intel's DCAP uses it everywhere: the quote signature
 * and the QE report signature (raw r ‖ s, TDX DCAP Quote Library API A.4.1/A.4.3), the TCB info and
 * QE identity signatures (raw r ‖ s hex, PCS API v4), and the certificates and CRLs of Intel's
 * SGX PKI (ecdsa-with-SHA256, RFC 5758 §3.2; Ecdsa-Sig-Value, RFC 5480 §2.2).
 */
import { concatBytes, constantTimeEqual, fromHex } from '../../bytes.js';
import type { SignatureScheme } from '../../der/crl.js';
import { ecdsaDerToP1363 } from '../../der/ecdsa-signature.js';
import { type SignatureBackend, type VerifyKey, webCryptoSignatures } from '../signature-backend.js';

/** AlgorithmIdentifier { ecdsa-with-SHA256 } with parameters absent (RFC 5758 §3.2), whole DER. */
export const ECDSA_WITH_SHA256_DER = fromHex('300a06082a8648ce3d040302');

/** A verification key from a raw 64-byte point x ‖ y (the quote's attestation key); null if not on the curve. */
export async function importRawP256(
  point: Uint8Array,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<VerifyKey | null> {
  if (point.length !== 64) return null;
  return await signatures.importEcdsaPoint(concatBytes(Uint8Array.of(0x04), point), 'P-256');
}

/** A verification key from a SubjectPublicKeyInfo; null when it is not a P-256 key. */
export async function importSpkiP256(
  spki: Uint8Array,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<VerifyKey | null> {
  return await signatures.importEcdsaSpki(spki, 'P-256');
}

/** True when `signature` (r ‖ s, 64 bytes) over `data` verifies under `key`. */
export async function verifyP1363(
  key: VerifyKey | null,
  signature: Uint8Array,
  data: Uint8Array,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<boolean> {
  if (key === null || signature.length !== 64) return false;
  return await signatures.verifyEcdsa(key, 'SHA-256', signature, data);
}

/** True when a DER Ecdsa-Sig-Value made with ecdsa-with-SHA256 (`algorithm`, whole DER) verifies. */
export async function verifyDerSignature(
  key: VerifyKey | null,
  algorithm: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
  signatures: SignatureBackend = webCryptoSignatures,
): Promise<boolean> {
  if (!constantTimeEqual(algorithm, ECDSA_WITH_SHA256_DER)) return false;
  let p1363: Uint8Array;
  try {
    p1363 = ecdsaDerToP1363(signature, 32);
  } catch {
    return false;
  }
  return await verifyP1363(key, p1363, data, signatures);
}

/** The CRL signature scheme of Intel's PCS CRLs: ecdsa-with-SHA256 under `key`. */
export function ecdsaP256Scheme(
  key: VerifyKey | null,
  signatures: SignatureBackend = webCryptoSignatures,
): SignatureScheme {
  return (algorithm, signature, signed) => verifyDerSignature(key, algorithm, signature, signed, signatures);
}
