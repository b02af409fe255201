/**
 * The service's signed statement of which KEKs it holds (docs/services.md "Keys"), how the gateway
 * confirms a key before it publishes it. The plain `GET /v1/keys` can be answered by anyone on the
 * gateway ↔ service hop: a man in the middle could drop an upload, answer it, and have the gateway
 * publish and seal under a key no service held. So `GET /v1/keys?nonce=<32 bytes, base64url>`
 * answers `{keys, sig}`, `sig` an ECDSA P-384/SHA-384 signature (IEEE P1363 r ‖ s, 96 bytes, base64url) by the service's attested
 * `signing` key (bound into its REPORT_DATA) over
 *
 *   M = LP("sealgate/keys-held/v1") ‖ LP(manifest digest, 32 raw bytes) ‖ LP(nonce)
 *       ‖ LP(u32be(n)) ‖ for each of the n keys: LP(UTF-8(kid)) ‖ LP(u64be(notBefore)) ‖ LP(u64be(notAfter))
 *                                                               LP(x) = u32be(len(x)) ‖ x
 *
 * The nonce is the gateway's, fresh per call: an earlier answer replayed is refused; a list from a
 * restarted service (new signing key, until it is attested again) does not verify.
 */
import { utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { lengthPrefixed, u32be, u64be } from '../keys/encoding.js';
import { kekContext } from './kek-binding.js';
import { signAsService, verifyServiceSignature } from './service-signature.js';

export const KEYS_HELD_LABEL = 'sealgate/keys-held/v1';
export const KEYS_HELD_NONCE_LENGTH = 32;

export interface HeldKey {
  kid: string;
  notBefore: number;
  notAfter: number;
}

/** The exact bytes signed (M above). */
export function keysHeldBytes(
  manifestDigest: string,
  nonce: Uint8Array,
  keys: readonly HeldKey[],
): Uint8Array {
  if (!(nonce instanceof Uint8Array) || nonce.length !== KEYS_HELD_NONCE_LENGTH) {
    throw new SealgateError('invalid_argument', 'keys held: nonce must be 32 bytes');
  }
  const parts = [utf8.encode(KEYS_HELD_LABEL), kekContext(manifestDigest), nonce, u32be(keys.length)];
  for (const k of keys) parts.push(utf8.encode(k.kid), u64be(k.notBefore), u64be(k.notAfter));
  return lengthPrefixed(...parts);
}

/** The service's side: `sig` over `keys` for the caller's `nonce`. */
export function signKeysHeld(
  signingKey: CryptoKey,
  manifestDigest: string,
  nonce: Uint8Array,
  keys: readonly HeldKey[],
): Promise<string> {
  return signAsService(signingKey, keysHeldBytes(manifestDigest, nonce, keys));
}

/**
 * The gateway's side: true when `sig` is the attested service key's signature over `keys` for this
 * manifest and `nonce`. `keys` must already be checked for shape (keys.ts `keyMetadata`).
 */
export function verifyKeysHeld(
  serviceSigningSpki: Uint8Array,
  manifestDigest: string,
  nonce: Uint8Array,
  keys: readonly HeldKey[],
  sig: unknown,
): Promise<boolean> {
  const message = keysHeldBytes(manifestDigest, nonce, keys);
  return verifyServiceSignature(serviceSigningSpki, sig, message, 'the key list');
}
