/**
 * The per-request data key (DEK) and everything derived from it. The primitives come from a backend
 * (envelope-crypto.ts): WebCrypto by default (web-crypto.ts), `node:crypto` in the AI worker.
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
import { SealgateError } from '../errors.js';
import { isBase64UrlCodec } from '../keys/encoding.js';
import type { DekHandle, EnvelopeCrypto } from './envelope-crypto.js';
import { webEnvelopeCrypto } from './web-crypto.js';

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
 * What both ends keep between a request and its response. `dek` is an opaque handle of the backend
 * `crypto` that made it (WebCrypto: a non-extractable HKDF key); the response and stream of this
 * request are sealed and opened with that same backend. The rest is what the response AAD binds.
 */
export interface RequestContext {
  readonly requestId: string;
  readonly kid: string;
  readonly route: string;
  readonly model: string;
  readonly dek: DekHandle;
  readonly crypto: EnvelopeCrypto;
}

const METHODS = ['importAndWrapDek', 'unwrapDek', 'deriveAesKey', 'gcmSeal', 'gcmOpen', 'isDek'] as const;

/** The backend a caller chose (checked for shape), or the default: WebCrypto. */
export function chooseEnvelopeCrypto(chosen: unknown, fn: string): EnvelopeCrypto {
  if (chosen === undefined) return webEnvelopeCrypto;
  if (isEnvelopeCrypto(chosen)) return chosen;
  throw new SealgateError('invalid_argument', `${fn}: envelopeCrypto must be an EnvelopeCrypto`);
}

export function isEnvelopeCrypto(value: unknown): value is EnvelopeCrypto {
  return (
    typeof value === 'object' &&
    value !== null &&
    METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function') &&
    ((value as EnvelopeCrypto).base64url === undefined ||
      isBase64UrlCodec((value as EnvelopeCrypto).base64url))
  );
}
