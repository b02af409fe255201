/**
 * The per-request data key (DEK) and everything derived from it. All WebCrypto, so the hot path is
 * native in workerd and Node.
 *
 *   DEK      32 random bytes, fresh per request, made by the gateway.
 *   wk       AES-KW(KEK, DEK), RFC 3394 — 40 bytes.
 *   K_req    HKDF-SHA256(IKM = DEK, salt = "",  info = "sealgate/v1/request-key")  (RFC 5869)
 *   K_resp   HKDF-SHA256(IKM = DEK, salt = rs,  info = "sealgate/v1/response-key")
 *   K_stream HKDF-SHA256(IKM = DEK, salt = rs,  info = "sealgate/v1/stream-key")
 *
 * Why AES-KW for the DEK and not AES-GCM: a KEK wraps one DEK per request for its whole lifetime.
 * AES-GCM with random 96-bit nonces is capped at 2^32 encryptions per key (NIST SP 800-38D §8.3),
 * a budget a busy gateway spends in days and which no single isolate can count; AES-KW is
 * deterministic, has no nonce, and so has no such budget. It carries no AAD, and needs none: the DEK
 * is uniformly random and only ever used through K_req, whose GCM AAD binds the whole header, so a
 * wrapped key moved into another request cannot authenticate there. It is 40 bytes on the wire
 * (GCM would be 60) and native in WebCrypto everywhere (wrapKey/unwrapKey).
 *
 * Why derive K_req/K_resp/K_stream instead of using the DEK directly: one key, one job. And why the
 * response keys take a fresh salt `rs` chosen by the responder: the same sealed request can reach
 * two workers (a retry, or a replay inside the window to a replica with its own replay cache); with
 * keys derived from the DEK alone, both would encrypt different plaintexts under the same key and
 * nonces — GCM's catastrophic case. With `rs` every response has its own key, so the fixed and
 * counter nonces below can never repeat under one key.
 */
import { utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { checkKek, type Kek } from '../keys/kek.js';

export const DEK_LENGTH = 32;
export const WRAPPED_DEK_LENGTH = 40;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
/** Response salt, chosen by the responder per response. */
export const RESPONSE_SALT_LENGTH = 32;

export const HKDF_INFO = Object.freeze({
  request: 'sealgate/v1/request-key',
  response: 'sealgate/v1/response-key',
  stream: 'sealgate/v1/stream-key',
});

/**
 * What both ends keep between a request and its response. `dek` is a non-extractable HKDF key;
 * the rest is what the response AAD binds.
 */
export interface RequestContext {
  readonly requestId: string;
  readonly kid: string;
  readonly route: string;
  readonly model: string;
  readonly dek: CryptoKey;
}

// A KEK is checked (kid derived from key) and imported once per Kek object, not once per request.
const kekKeys = new WeakMap<object, Promise<CryptoKey>>();

export function kekWrappingKey(kek: Kek): Promise<CryptoKey> {
  let key = kekKeys.get(kek);
  if (!key) {
    key = checkKek(kek, 'KEK').then((checked) =>
      crypto.subtle.importKey('raw', checked.key as BufferSource, 'AES-KW', false, ['wrapKey', 'unwrapKey']),
    );
    // A failed check must not stick: drop it so the error is thrown again on the next call.
    key.catch(() => kekKeys.delete(kek));
    kekKeys.set(kek, key);
  }
  return key;
}

/** Imports the DEK for derivation and wraps it under the KEK. The caller zeroises `dek` afterwards. */
export async function importAndWrapDek(
  kek: Kek,
  dek: Uint8Array,
): Promise<{ dekKey: CryptoKey; wk: Uint8Array }> {
  const wrapping = await kekWrappingKey(kek);
  const s = crypto.subtle;
  // WebCrypto wraps only CryptoKeys; the algorithm tag of this transient handle does not affect the
  // wrapped bytes (RFC 3394 wraps the raw key).
  const transient = await s.importKey('raw', dek as BufferSource, 'AES-GCM', true, ['encrypt']);
  const wk = new Uint8Array(await s.wrapKey('raw', transient, wrapping, 'AES-KW'));
  const dekKey = await s.importKey('raw', dek as BufferSource, 'HKDF', false, ['deriveKey']);
  return { dekKey, wk };
}

/** Unwraps straight into a non-extractable HKDF key; any failure is `decryption_failed`. */
export async function unwrapDek(kek: Kek, wk: Uint8Array, what: string): Promise<CryptoKey> {
  const wrapping = await kekWrappingKey(kek);
  try {
    return await crypto.subtle.unwrapKey('raw', wk as BufferSource, wrapping, 'AES-KW', 'HKDF', false, [
      'deriveKey',
    ]);
  } catch (cause) {
    throw new SealgateError('decryption_failed', `${what}: key unwrap failed`, undefined, { cause });
  }
}

export function deriveAesKey(dek: CryptoKey, salt: Uint8Array, info: string): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: salt as BufferSource, info: utf8.encode(info) as BufferSource },
    dek,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export async function gcmSeal(
  key: CryptoKey,
  iv: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
): Promise<Uint8Array> {
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource, tagLength: 128 },
    key,
    pt as BufferSource,
  );
  return new Uint8Array(ct);
}

/** AES-256-GCM open; WebCrypto releases nothing unless the tag verifies. Failure → decryption_failed. */
export async function gcmOpen(
  key: CryptoKey,
  iv: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
  message: string,
): Promise<Uint8Array> {
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource, tagLength: 128 },
      key,
      ct as BufferSource,
    );
    return new Uint8Array(pt);
  } catch (cause) {
    throw new SealgateError('decryption_failed', message, undefined, { cause });
  }
}
