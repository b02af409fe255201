/**
 * A worker's key poll (`POST /v1/workers/keys`) is signed by the worker (docs/protocol.md "Signed
 * key delivery"). A worker's certificate is public (`GET /v1/workers`, the worker's
 * `GET /v1/worker`, every receipt), so a poll that asked for nothing more would let anyone make the
 * service seal every live KEK (an X-Wing encapsulation each) and sign the answer as often as they
 * liked: useless to them (the keys are sealed to the attested `hpke` key), but CPU the service
 * spends for anyone. So the poll carries `proof`, an ECDSA P-256/SHA-256 signature
 * (IEEE P1363 r ‖ s, 64 bytes, base64url) by the certificate's subject key — the worker's attested
 * `signing` key — over
 *
 *   M = LP("sealgate/key-poll/v1") ‖ LP(manifest digest, 32 raw bytes)
 *       ‖ LP(SHA-256(certificate DER)) ‖ LP(nonce)                      LP(x) = u32be(len(x)) ‖ x
 *
 * M is binary and starts with a length prefix, so it can never be a receipt's JWS signing input
 * (ASCII base64url), which the same key signs.
 */
import { utf8 } from '../bytes.js';
import { lengthPrefixed } from '../keys/encoding.js';
import { kekContext } from './kek-binding.js';

export const KEY_POLL_LABEL = 'sealgate/key-poll/v1';
export const KEY_POLL_PROOF_LENGTH = 64;
const ECDSA_P256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The exact bytes the worker signs. */
export function keyPollBytes(
  manifestDigest: string,
  certificateSha256: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  return lengthPrefixed(utf8.encode(KEY_POLL_LABEL), kekContext(manifestDigest), certificateSha256, nonce);
}

/** True when `proof` is the signature of the certificate's key (`signingSpki`, P-256) over `message`. */
export async function verifyKeyPollProof(
  signingSpki: Uint8Array,
  message: Uint8Array,
  proof: Uint8Array,
): Promise<boolean> {
  if (proof.length !== KEY_POLL_PROOF_LENGTH) return false;
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      'spki',
      signingSpki.slice() as BufferSource,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
  } catch {
    return false;
  }
  return crypto.subtle.verify(ECDSA_P256, key, proof as BufferSource, message as BufferSource);
}
