/**
 * Every key the gateway derives from GATEWAY_SECRET, in one place (docs/gateway.md "Secrets"):
 *
 *   K_label = HKDF-SHA256(salt = "", IKM = UTF-8(GATEWAY_SECRET), info = label)   (RFC 5869)
 *
 * One label per purpose, so no two uses share a key (RFC 5869 §3.2: `info` binds the derived key to
 * its application). Keys are non-extractable and memoised per (secret, label): the derivation runs
 * once per isolate, not per request.
 */
import { toArrayBuffer, utf8 } from '../bytes.js';

export const SECRET_KEY_LABELS = Object.freeze({
  /** AES-256-GCM: KEKs at rest in DO storage and KV (kv/at-rest.ts). */
  atRest: 'sealgate/gateway/v1/at-rest',
  /** HMAC-SHA-256: authenticated KV entries (kv/kv-auth.ts). */
  kvEntry: 'sealgate/gateway/v1/kv-entry',
  /** HMAC-SHA-256: operator-written `apikey:` KV entries (kv/kv-auth.ts, kv/api-keys.ts). */
  apiKeyEntry: 'sealgate/gateway/v1/apikey-entry',
  /** HMAC-SHA-256: gateway nonces (verification/gateway-nonce.ts). */
  nonce: 'sealgate/gateway/v1/nonce',
  /** 48 bytes of seed for the EAR signing key (verification/ear-signer.ts). */
  earSigning: 'sealgate/gateway/v1/ear-signing',
});

type Label = (typeof SECRET_KEY_LABELS)[keyof typeof SECRET_KEY_LABELS];

const derived = new Map<string, Promise<CryptoKey>>();

function ikm(secret: string, usage: 'deriveKey' | 'deriveBits'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', toArrayBuffer(utf8.encode(secret)), 'HKDF', false, [usage]);
}

function hkdf(label: Label): HkdfParams {
  return { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: toArrayBuffer(utf8.encode(label)) };
}

/** A non-extractable WebCrypto key for `label`, memoised per secret. */
export function secretKey(
  secret: string,
  label: Label,
  algorithm: AesKeyAlgorithm | HmacImportParams,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  const id = `${label}\u0000${secret}`;
  let key = derived.get(id);
  if (!key) {
    key = (async () =>
      crypto.subtle.deriveKey(hkdf(label), await ikm(secret, 'deriveKey'), algorithm, false, usages))();
    derived.set(id, key);
  }
  return key;
}

/** `bytes` of output keying material for `label` (for keys WebCrypto cannot derive, e.g. an EC scalar). */
export async function secretBits(secret: string, label: Label, bytes: number): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.deriveBits(hkdf(label), await ikm(secret, 'deriveBits'), bytes * 8),
  );
}
