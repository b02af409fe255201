/**
 * Gateway-issued nonces (docs/verifiability.md "Freshness without shared state"). A nonce is the
 * 32 bytes REPORT_DATA binds (src/attestation/report-data.ts NONCE_LENGTH), laid out so that ANY
 * edge instance holding GATEWAY_SECRET can tell that it issued it, and when — without a store:
 *
 *   nonce = "SGN1"[4] ‖ window u32-BE[4] ‖ random[8] ‖ HMAC-SHA256(K_nonce, "SGN1" ‖ window ‖ random)[0..16]
 *   window = floor(unix seconds / WINDOW_SECONDS)
 *   K_nonce = HKDF-SHA256(salt = "", IKM = UTF-8(GATEWAY_SECRET), info = "sealgate/gateway/v1/nonce")
 *
 * It is valid in its own window and the next one (so at least WINDOW_SECONDS, at most twice that).
 * The tag is compared in constant time (`constantTimeEqual`). A 128-bit tag (NIST SP 800-107r1
 * §5.3.4 allows truncated HMAC tags; we keep 128 bits) makes forging one hopeless.
 *
 * A caller's own random nonce starts with "SGN1" with probability 2^-32; such a nonce is then
 * checked as a gateway nonce and refused — the caller draws another.
 */

import { NONCE_LENGTH } from '../../attestation/report-data.js';
import { concatBytes, constantTimeEqual, toArrayBuffer, utf8 } from '../../bytes.js';
import { SECRET_KEY_LABELS, secretKey } from '../secret-keys.js';

export const GATEWAY_NONCE_MAGIC = utf8.encode('SGN1');
export const NONCE_WINDOW_SECONDS = 300;
const RANDOM_LENGTH = 8;
const TAG_LENGTH = 16;

function nonceKey(secret: string): Promise<CryptoKey> {
  return secretKey(secret, SECRET_KEY_LABELS.nonce, { name: 'HMAC', hash: 'SHA-256', length: 256 }, ['sign']);
}

function windowBytes(window: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, window, false);
  return out;
}

async function tag(secret: string, signed: Uint8Array): Promise<Uint8Array> {
  const mac = await crypto.subtle.sign('HMAC', await nonceKey(secret), toArrayBuffer(signed));
  return new Uint8Array(mac).slice(0, TAG_LENGTH);
}

export interface IssuedNonce {
  nonce: Uint8Array;
  /** Unix seconds after which no instance accepts it. */
  expiresAt: number;
}

export async function issueGatewayNonce(secret: string, nowSeconds: number): Promise<IssuedNonce> {
  const window = Math.floor(nowSeconds / NONCE_WINDOW_SECONDS);
  const signed = concatBytes(
    GATEWAY_NONCE_MAGIC,
    windowBytes(window),
    crypto.getRandomValues(new Uint8Array(RANDOM_LENGTH)),
  );
  const nonce = concatBytes(signed, await tag(secret, signed));
  return { nonce, expiresAt: (window + 2) * NONCE_WINDOW_SECONDS };
}

export function looksLikeGatewayNonce(nonce: Uint8Array): boolean {
  return nonce.length === NONCE_LENGTH && constantTimeEqual(nonce.slice(0, 4), GATEWAY_NONCE_MAGIC);
}

export type NonceCheck =
  | { ok: true; window: number }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

/** Stateless check: our tag, and issued in the current or the previous window. */
export async function checkGatewayNonce(
  secret: string,
  nonce: Uint8Array,
  nowSeconds: number,
): Promise<NonceCheck> {
  if (!looksLikeGatewayNonce(nonce)) return { ok: false, reason: 'malformed' };
  const signed = nonce.slice(0, NONCE_LENGTH - TAG_LENGTH);
  const expected = await tag(secret, signed);
  if (!constantTimeEqual(expected, nonce.slice(NONCE_LENGTH - TAG_LENGTH)))
    return { ok: false, reason: 'forged' };
  const window = new DataView(nonce.buffer, nonce.byteOffset + 4, 4).getUint32(0, false);
  const current = Math.floor(nowSeconds / NONCE_WINDOW_SECONDS);
  if (window !== current && window !== current - 1) return { ok: false, reason: 'expired' };
  return { ok: true, window };
}
