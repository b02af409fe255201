/**
 * The signature checks the SEV-SNP and TDX verifiers make, behind one small interface so that a
 * runtime may bring a faster implementation (src/platform/node-signature-backend.ts: node:crypto's
 * synchronous verify, no thread-pool hop) while workerd keeps WebCrypto. Exactly what the callers
 * use, no more:
 *   - ECDSA P-256 / P-384 keys from a SubjectPublicKeyInfo or a raw uncompressed point, and
 *     signatures in IEEE P1363 form (r ‖ s, big-endian; DER callers convert first);
 *   - RSASSA-PSS keys from a SubjectPublicKeyInfo (AMD's chain: SHA-384, MGF1-SHA-384, salt 48);
 *   - SHA-256 / SHA-384 digests (FIPS 180-4) of certificates, the fingerprints that pin roots and
 *     key the chain caches: in Node a WebCrypto digest is a thread-pool hop of ~0.1 ms for a
 *     1.4 KB certificate, node:crypto's `createHash` 4 µs (measured, docs/benchmarks.md).
 *
 * Invariants every backend keeps (the tests run the SNP and TDX suites against each):
 *   - an import returns null for a key that is not of the asked kind or curve, never throws;
 *   - a verify returns true only for a valid signature; a wrong-length signature, a key it did not
 *     import itself (another backend's) or any internal error is false — fail closed;
 *   - ECDSA is not low-S normalized (AMD firmware signatures are not; see verify-report-signature.ts).
 */

/** A verification key made by one backend's import; opaque to everyone else. */
export type VerifyKey = { readonly __verifyKey: unique symbol };

export type EcCurve = 'P-256' | 'P-384';
export type SignatureHash = 'SHA-256' | 'SHA-384';

export interface SignatureBackend {
  /** An ECDSA key on `curve` from its SubjectPublicKeyInfo (RFC 5480); null when it is not one. */
  importEcdsaSpki(spki: Uint8Array, curve: EcCurve): Promise<VerifyKey | null>;
  /** An ECDSA key on `curve` from an uncompressed point 0x04 ‖ x ‖ y (SEC 1 §2.3.3); null if off-curve. */
  importEcdsaPoint(point: Uint8Array, curve: EcCurve): Promise<VerifyKey | null>;
  /** An RSASSA-PSS verification key (RFC 4055) from its SubjectPublicKeyInfo; null when not RSA. */
  importRsaPssSpki(spki: Uint8Array, hash: SignatureHash): Promise<VerifyKey | null>;
  /** True when the P1363 `signature` over `data` verifies under `key` with ECDSA and `hash`. */
  verifyEcdsa(key: VerifyKey, hash: SignatureHash, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
  /** True when the RSASSA-PSS `signature` (MGF1 with `hash`, `saltLength`) over `data` verifies. */
  verifyRsaPss(
    key: VerifyKey,
    hash: SignatureHash,
    saltLength: number,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>;
  /** The `hash` digest of `data`: a fresh array of 32 (SHA-256) or 48 (SHA-384) bytes. */
  digest(hash: SignatureHash, data: Uint8Array): Promise<Uint8Array>;
}

async function importOrNull(
  format: 'spki' | 'raw',
  bytes: Uint8Array,
  algorithm: EcKeyImportParams | RsaHashedImportParams,
): Promise<VerifyKey | null> {
  try {
    const key = await crypto.subtle.importKey(format, bytes as BufferSource, algorithm, false, ['verify']);
    return key as unknown as VerifyKey;
  } catch {
    return null;
  }
}

/** The key as a CryptoKey of `algorithm`, or null when another backend (or a wrong import) made it. */
function cryptoKeyOf(key: VerifyKey, algorithm: string): CryptoKey | null {
  const k = key as unknown;
  return k instanceof CryptoKey && k.algorithm.name === algorithm ? k : null;
}

async function verifyOrFalse(
  algorithm: EcdsaParams | RsaPssParams,
  key: CryptoKey | null,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (key === null) return false;
  try {
    return await crypto.subtle.verify(algorithm, key, signature as BufferSource, data as BufferSource);
  } catch {
    return false;
  }
}

/** The global WebCrypto (`crypto.subtle`): what workerd runs, and the default everywhere. */
export const webCryptoSignatures: SignatureBackend = {
  importEcdsaSpki: (spki, curve) => importOrNull('spki', spki, { name: 'ECDSA', namedCurve: curve }),
  importEcdsaPoint: (point, curve) => importOrNull('raw', point, { name: 'ECDSA', namedCurve: curve }),
  importRsaPssSpki: (spki, hash) => importOrNull('spki', spki, { name: 'RSA-PSS', hash }),
  verifyEcdsa: (key, hash, signature, data) =>
    verifyOrFalse({ name: 'ECDSA', hash }, cryptoKeyOf(key, 'ECDSA'), signature, data),
  verifyRsaPss: (key, hash, saltLength, signature, data) => {
    const k = cryptoKeyOf(key, 'RSA-PSS');
    // The hash is fixed at import in WebCrypto: a key imported for another hash does not verify.
    if (k === null || (k.algorithm as { hash?: { name?: string } }).hash?.name !== hash)
      return Promise.resolve(false);
    return verifyOrFalse({ name: 'RSA-PSS', saltLength }, k, signature, data);
  },
  digest: async (hash, data) => new Uint8Array(await crypto.subtle.digest(hash, data as BufferSource)),
};
