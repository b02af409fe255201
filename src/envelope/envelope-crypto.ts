/**
 * The envelope's crypto seam: exactly the primitives of data-key.ts (AES-KW wrap/unwrap of the DEK,
 * HKDF-SHA256 to AES-256 keys, AES-256-GCM with a 16-byte tag), behind one small interface, so the
 * envelope code stays pure and each runtime brings the implementation that is fast there:
 *
 *   - `webEnvelopeCrypto` (web-crypto.ts, the default): WebCrypto. Native and synchronous in workerd,
 *     which is where the gateway runs — the gateway always uses it.
 *   - the AI worker's Node backend (src/ai-worker/node-envelope-crypto.ts): `node:crypto`'s
 *     synchronous calls. In Node every WebCrypto call is a job on the libuv thread pool, and on a
 *     busy machine that hand-off costs more than the crypto itself.
 *
 * How a caller chooses: explicitly, where a request context is born — the `envelopeCrypto` option of
 * `sealRequest` and `openRequest`. The context then carries its backend next to the DEK handle that
 * backend made (`RequestContext.crypto`), and `sealResponse`, `openResponse` and the stream sealer
 * and opener use that one. Why there and not an option on every call, or a process-wide setting: a
 * DEK handle only works with the backend that made it, so carrying both together makes a mismatch
 * impossible rather than a runtime check; and a global switch would be mutable state shared by
 * everything in the isolate (tests included) that nobody could see at the call site.
 *
 * Contract every backend keeps (test/envelope/backends.node.test.ts checks both against each other
 * and against envelope-v1.json):
 *   - byte-identical outputs for identical inputs (RFC 3394 with the default IV, RFC 5869, SP 800-38D);
 *   - every failure to unwrap or authenticate is `SealgateError('decryption_failed', message)` with
 *     the caller's message, and `gcmOpen` releases no plaintext unless the tag verified;
 *   - the DEK never leaves the backend as bytes: callers hold only an opaque handle.
 * Results may be returned directly or as a promise (callers always `await`): a synchronous backend
 * need not allocate one.
 */
import type { Base64UrlCodec } from '../keys/encoding.js';
import type { Kek } from '../keys/kek.js';

declare const DEK_HANDLE: unique symbol;
declare const AES_KEY_HANDLE: unique symbol;

/** The per-request DEK as the backend that made it holds it (a non-extractable key, a KeyObject…). */
export type DekHandle = { readonly [DEK_HANDLE]: true };
/** An AES-256-GCM key derived from a DEK, in the same backend's form. */
export type AesKeyHandle = { readonly [AES_KEY_HANDLE]: true };

export type Awaitable<T> = T | Promise<T>;

export interface EnvelopeCrypto {
  /** For logs and benchmarks: "webcrypto", "node". */
  readonly name: string;
  /**
   * Wraps `dek` (32 bytes) under the KEK with AES-KW (RFC 3394, 40 bytes out) and returns the DEK
   * as a handle for `deriveAesKey`. Keeps no reference to `dek`: the caller zeroises it afterwards.
   * A KEK whose id does not match its key is `invalid_argument` ("KEK: …").
   */
  importAndWrapDek(kek: Kek, dek: Uint8Array): Awaitable<{ dek: DekHandle; wk: Uint8Array }>;
  /** Unwraps `wk` (40 bytes); any failure is `decryption_failed` with "`what`: key unwrap failed". */
  unwrapDek(kek: Kek, wk: Uint8Array, what: string): Awaitable<DekHandle>;
  /** HKDF-SHA256(IKM = DEK, salt, info as UTF-8) → AES-256-GCM key (RFC 5869). */
  deriveAesKey(dek: DekHandle, salt: Uint8Array, info: string): Awaitable<AesKeyHandle>;
  /** AES-256-GCM, 12-byte IV, 16-byte tag appended: ct ‖ tag. */
  gcmSeal(key: AesKeyHandle, iv: Uint8Array, aad: Uint8Array, pt: Uint8Array): Awaitable<Uint8Array>;
  /** Inverse of gcmSeal; any failure is `decryption_failed` with `message`, releasing nothing. */
  gcmOpen(
    key: AesKeyHandle,
    iv: Uint8Array,
    aad: Uint8Array,
    ct: Uint8Array,
    message: string,
  ): Awaitable<Uint8Array>;
  /**
   * Optional: the base64url codec for the envelope's and stream frames' fields, for a runtime whose
   * native codec is faster (the Node AI worker's `Buffer`). Absent: `jsBase64Url` (src/bytes.ts).
   * Any codec keeps `Base64UrlCodec`'s contract: the same spelling, the same strict verdicts.
   */
  readonly base64url?: Base64UrlCodec;
  /** Whether `value` is a DEK handle of this backend (context checks). */
  isDek(value: unknown): value is DekHandle;
}
