/**
 * The AI worker's envelope backend (src/envelope/envelope-crypto.ts): `node:crypto`'s synchronous
 * calls instead of WebCrypto. Why: in Node every `crypto.subtle` call is a job handed to the libuv
 * thread pool and its result handed back through the event loop; for the handful of small
 * operations a sealed request needs (unwrap, two HKDFs, two GCMs) that hand-off costs more CPU than
 * the crypto (docs/benchmarks.md "Reading the figures"). The calls here run on the calling thread,
 * on the same OpenSSL. The gateway (workerd) keeps WebCrypto.
 *
 * Same algorithms, same bytes (test/envelope/backends.node.test.ts checks both backends against each
 * other and against envelope-v1.json):
 *   AES-KW    `id-aes256-wrap` with RFC 3394 §2.2.3.1's default IV A6A6A6A6A6A6A6A6;
 *   HKDF      `hkdfSync('sha256', …, 32)` (RFC 5869);
 *   AES-GCM   `aes-256-gcm`, 96-bit IV, 128-bit tag appended (NIST SP 800-38D).
 * Failures map exactly as in the WebCrypto backend: anything that does not unwrap or authenticate is
 * `decryption_failed` with the caller's message. GCM decryption streams plaintext out of `update()`
 * before `final()` checks the tag, so that output is zeroised and dropped unless `final()` succeeds.
 *
 * Key handling: the DEK is a `KeyObject` (`createSecretKey`): HKDF reads it as the key object, so
 * it is never exported as bytes; the unwrap's output buffer is zeroised as soon as the KeyObject
 * holds its copy. Unlike a non-extractable CryptoKey, a KeyObject *can* be exported by code that
 * holds it (`export()`); the handle never leaves the envelope code, which does not. Each DEK and
 * each derived key is marked with its job (below), so a DEK cannot be used as a GCM key nor a GCM
 * key as an HKDF input — what WebCrypto's key usages enforce.
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, KeyObject } from 'node:crypto';
import { isBytes, utf8 } from '../bytes.js';
import {
  HKDF_INFO,
  IV_LENGTH,
  DEK_LENGTH as KEY_LENGTH,
  TAG_LENGTH,
  WRAPPED_DEK_LENGTH as WRAPPED_LENGTH,
} from '../envelope/data-key.js';
import type { AesKeyHandle, DekHandle, EnvelopeCrypto } from '../envelope/envelope-crypto.js';
import { SealgateError } from '../errors.js';
import { checkKek, type Kek } from '../keys/kek.js';
import { nodeBase64Url } from './node-base64url.js';

/** RFC 3394 §2.2.3.1: the default initial value, checked by the unwrap as its integrity check. */
const AES_KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

// The protocol's HKDF info strings, encoded once (never written to: hkdfSync only reads them).
const INFO_BYTES: ReadonlyMap<string, Uint8Array> = new Map(
  Object.values(HKDF_INFO).map((info) => [info, utf8.encode(info)]),
);

// Which KeyObjects this backend made, and for which job (like WebCrypto's usages).
const deks = new WeakSet<KeyObject>();
const aesKeys = new WeakSet<KeyObject>();

// A KEK is checked (kid derived from its key) and imported once per Kek object, not once per request.
const kekPending = new WeakMap<object, Promise<KeyObject>>();
const kekReady = new WeakMap<object, KeyObject>();

function kekKey(kek: Kek): KeyObject | Promise<KeyObject> {
  const ready = kekReady.get(kek);
  if (ready) return ready;
  let pending = kekPending.get(kek);
  if (!pending) {
    pending = checkKek(kek, 'KEK').then((checked) => {
      const key = createSecretKey(checked.key);
      checked.key.fill(0); // checkKek's copy; the KeyObject holds its own
      kekReady.set(kek, key);
      return key;
    });
    // A failed check must not stick: drop it so the error is thrown again on the next call.
    pending.catch(() => kekPending.delete(kek));
    kekPending.set(kek, pending);
  }
  return pending;
}

function withKek<T>(kek: Kek, use: (key: KeyObject) => T): T | Promise<T> {
  const key = kekKey(kek);
  return key instanceof KeyObject ? use(key) : key.then(use);
}

function bytes(value: unknown, name: string, length?: number): Uint8Array {
  if (isBytes(value, length)) return value;
  throw new SealgateError(
    'invalid_argument',
    `node envelope crypto: ${name} must be ${length === undefined ? 'a Uint8Array' : `${length} bytes`}`,
  );
}

function marked(set: WeakSet<KeyObject>, bytes32: Uint8Array): KeyObject {
  const key = createSecretKey(bytes32);
  set.add(key);
  return key;
}

function aesKey(handle: AesKeyHandle): KeyObject {
  const key = handle as unknown as KeyObject;
  if (!aesKeys.has(key)) throw new SealgateError('invalid_argument', 'node envelope crypto: not an AES key');
  return key;
}

/**
 * Failures to unwrap or open (module-level rather than a closure per call: under tsx every named
 * function expression made per call costs a defineProperty of its name).
 */
function decryptionFailed(message: string, cause?: unknown): never {
  throw new SealgateError('decryption_failed', message, undefined, { cause });
}

function unwrapWith(kek: KeyObject, wk: Uint8Array, what: string): DekHandle {
  if (!isBytes(wk, WRAPPED_LENGTH)) return decryptionFailed(`${what}: key unwrap failed`);
  let head: Buffer | undefined;
  let tail: Buffer | undefined;
  try {
    // An integrity failure (wrong KEK, any changed bit) throws here, in update() or final().
    const decipher = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV);
    head = decipher.update(wk);
    tail = decipher.final();
    if (head.length + tail.length !== KEY_LENGTH) decryptionFailed(`${what}: key unwrap failed`);
    return marked(deks, tail.length === 0 ? head : Buffer.concat([head, tail])) as unknown as DekHandle;
  } catch (cause) {
    if (cause instanceof SealgateError) throw cause;
    return decryptionFailed(`${what}: key unwrap failed`, cause);
  } finally {
    head?.fill(0);
    tail?.fill(0);
  }
}

export const nodeEnvelopeCrypto: EnvelopeCrypto = Object.freeze({
  name: 'node',
  // Buffer's native base64url, guarded to the protocol's strict verdicts (node-base64url.ts).
  base64url: nodeBase64Url,

  importAndWrapDek(kek: Kek, dek: Uint8Array) {
    bytes(dek, 'dek', KEY_LENGTH);
    return withKek(kek, (key) => {
      const cipher = createCipheriv('id-aes256-wrap', key, AES_KW_IV);
      const wk = Buffer.concat([cipher.update(dek), cipher.final()]);
      if (wk.length !== WRAPPED_LENGTH)
        throw new SealgateError('internal', 'AES-KW: unexpected output length');
      return { dek: marked(deks, dek) as unknown as DekHandle, wk: new Uint8Array(wk) };
    });
  },

  unwrapDek(kek: Kek, wk: Uint8Array, what: string) {
    return withKek(kek, (key) => unwrapWith(key, wk, what));
  },

  deriveAesKey(dek: DekHandle, salt: Uint8Array, info: string): AesKeyHandle {
    const ikm = dek as unknown as KeyObject;
    if (!deks.has(ikm)) throw new SealgateError('invalid_argument', 'node envelope crypto: not a DEK');
    bytes(salt, 'salt');
    if (typeof info !== 'string') throw new SealgateError('invalid_argument', 'node envelope crypto: info');
    const okm = new Uint8Array(
      hkdfSync('sha256', ikm, salt, INFO_BYTES.get(info) ?? utf8.encode(info), KEY_LENGTH),
    );
    try {
      return marked(aesKeys, okm) as unknown as AesKeyHandle;
    } finally {
      okm.fill(0);
    }
  },

  gcmSeal(key: AesKeyHandle, iv: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
    const k = aesKey(key);
    bytes(iv, 'iv', IV_LENGTH);
    bytes(aad, 'aad');
    bytes(pt, 'plaintext');
    const cipher = createCipheriv('aes-256-gcm', k, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(aad);
    const head = cipher.update(pt);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(head.length + tail.length + TAG_LENGTH);
    out.set(head, 0);
    out.set(tail, head.length);
    out.set(tag, head.length + tail.length);
    return out;
  },

  gcmOpen(key: AesKeyHandle, iv: Uint8Array, aad: Uint8Array, ct: Uint8Array, message: string): Uint8Array {
    // As in WebCrypto, anything wrong with the inputs is a failure to open, not another error.
    if (!isBytes(iv, IV_LENGTH) || !isBytes(aad) || !isBytes(ct) || ct.length < TAG_LENGTH) {
      return decryptionFailed(message);
    }
    let k: KeyObject;
    try {
      k = aesKey(key);
    } catch (cause) {
      return decryptionFailed(message, cause);
    }
    const body = ct.subarray(0, ct.length - TAG_LENGTH);
    let head: Buffer | undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', k, iv, { authTagLength: TAG_LENGTH });
      decipher.setAuthTag(ct.subarray(ct.length - TAG_LENGTH));
      decipher.setAAD(aad);
      head = decipher.update(body);
      const tail = decipher.final(); // throws unless the tag verifies
      const pt = tail.length === 0 ? head : Buffer.concat([head, tail]);
      head = undefined; // released: the tag verified
      // A plain Uint8Array view (no copy), as WebCrypto returns: no Buffer behaviour leaks out.
      return new Uint8Array(pt.buffer, pt.byteOffset, pt.length);
    } catch (cause) {
      return decryptionFailed(message, cause);
    } finally {
      head?.fill(0); // unauthenticated plaintext never leaves
    }
  },

  isDek(value: unknown): value is DekHandle {
    return value instanceof KeyObject && deks.has(value);
  },
});
