/**
 * The WebCrypto backend of the envelope (envelope-crypto.ts): the default, and the only one the
 * gateway uses — in workerd WebCrypto is native and synchronous. The DEK lives in a non-extractable
 * HKDF CryptoKey (usage deriveKey only), the derived keys in non-extractable AES-GCM CryptoKeys.
 *
 * Cost inside a request (bench/macro/crypto-slope.ts, docs/gateway.md "What the sealed path's
 * crypto costs"): each call here adds 5–15 µs of workerd CPU to a request, 1.5–2× its tight-loop
 * floor and nowhere near the 80–120 µs a loaded CPU profile charges each caller; the awaited promise
 * adds ~0 (workerd settles it before returning, no event-loop turn). `node:crypto` is no cheaper
 * in workerd and @noble/hashes is dearer, so this backend stays the gateway's.
 */
import { utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { checkKek, type Kek } from '../keys/kek.js';
import type { AesKeyHandle, DekHandle, EnvelopeCrypto } from './envelope-crypto.js';

// A KEK is checked (kid derived from key) and imported once per Kek object, not once per request.
const kekKeys = new WeakMap<object, Promise<CryptoKey>>();

function kekWrappingKey(kek: Kek): Promise<CryptoKey> {
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

const asDek = (key: CryptoKey) => key as unknown as DekHandle;
const asAes = (key: CryptoKey) => key as unknown as AesKeyHandle;
const fromHandle = (handle: DekHandle | AesKeyHandle) => handle as unknown as CryptoKey;

export const webEnvelopeCrypto: EnvelopeCrypto = Object.freeze({
  name: 'webcrypto',

  async importAndWrapDek(kek: Kek, dek: Uint8Array): Promise<{ dek: DekHandle; wk: Uint8Array }> {
    const wrapping = await kekWrappingKey(kek);
    const s = crypto.subtle;
    // WebCrypto wraps only CryptoKeys; the algorithm tag of this transient handle does not affect
    // the wrapped bytes (RFC 3394 wraps the raw key).
    const transient = await s.importKey('raw', dek as BufferSource, 'AES-GCM', true, ['encrypt']);
    const wk = new Uint8Array(await s.wrapKey('raw', transient, wrapping, 'AES-KW'));
    const dekKey = await s.importKey('raw', dek as BufferSource, 'HKDF', false, ['deriveKey']);
    return { dek: asDek(dekKey), wk };
  },

  /** Unwraps straight into a non-extractable HKDF key; any failure is `decryption_failed`. */
  async unwrapDek(kek: Kek, wk: Uint8Array, what: string): Promise<DekHandle> {
    const wrapping = await kekWrappingKey(kek);
    try {
      return asDek(
        await crypto.subtle.unwrapKey('raw', wk as BufferSource, wrapping, 'AES-KW', 'HKDF', false, [
          'deriveKey',
        ]),
      );
    } catch (cause) {
      throw new SealgateError('decryption_failed', `${what}: key unwrap failed`, undefined, { cause });
    }
  },

  async deriveAesKey(dek: DekHandle, salt: Uint8Array, info: string): Promise<AesKeyHandle> {
    return asAes(
      await crypto.subtle.deriveKey(
        {
          name: 'HKDF',
          hash: 'SHA-256',
          salt: salt as BufferSource,
          info: utf8.encode(info) as BufferSource,
        },
        fromHandle(dek),
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      ),
    );
  },

  async gcmSeal(key: AesKeyHandle, iv: Uint8Array, aad: Uint8Array, pt: Uint8Array): Promise<Uint8Array> {
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource, tagLength: 128 },
      fromHandle(key),
      pt as BufferSource,
    );
    return new Uint8Array(ct);
  },

  /** WebCrypto releases nothing unless the tag verifies. Failure → decryption_failed. */
  async gcmOpen(
    key: AesKeyHandle,
    iv: Uint8Array,
    aad: Uint8Array,
    ct: Uint8Array,
    message: string,
  ): Promise<Uint8Array> {
    try {
      const pt = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad as BufferSource, tagLength: 128 },
        fromHandle(key),
        ct as BufferSource,
      );
      return new Uint8Array(pt);
    } catch (cause) {
      throw new SealgateError('decryption_failed', message, undefined, { cause });
    }
  },

  isDek(value: unknown): value is DekHandle {
    return value instanceof CryptoKey;
  },
});
