/**
 * Key deliveries from the attestation service to a worker are signed (docs/protocol.md "Signed key
 * delivery"). The sealed KEKs (kek-transport.ts, purpose `kek-release`) are HPKE base mode to the
 * worker's public `hpke` key, which anyone on the worker ↔ service hop sees in the evidence it
 * registers with: without a signature a man in the middle could seal a key of its choosing and
 * the worker would take it. So every answer that carries keys — `register` and `workers/keys` —
 * carries `sig`, an ECDSA P-384/SHA-384 signature (IEEE P1363 r ‖ s, 96 bytes, base64url) by the
 * service's attested `signing` key (the one bound into its REPORT_DATA, which also signs worker
 * certificates) over
 *
 *   M = LP(label) ‖ LP(manifest digest, 32 raw bytes) ‖ LP(SHA-256(worker certificate DER))
 *       ‖ LP(nonce) ‖ LP(u32be(n)) ‖ for each of the n keys: LP(UTF-8(kid)) ‖ LP(enc) ‖ LP(ct)
 *                                                               LP(x) = u32be(len(x)) ‖ x
 *
 * label  `sealgate/kek-delivery/register/v1` or `sealgate/kek-delivery/keys/v1`: one answer type
 *        cannot stand in for the other;
 * certificate  the addressee: the worker's own certificate (in a register answer, the one it
 *        carries), so an answer made for another worker is refused;
 * nonce  the freshness value: for `register` the service's single-use challenge nonce the worker's
 *        evidence answered, for `workers/keys` 32 random bytes the worker sent with that poll — an
 *        earlier answer replayed is refused.
 * The worker verifies before it opens anything (the HPKE open comes after).
 */
import { utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { lengthPrefixed, u32be } from '../keys/encoding.js';
import type { SealedKek } from '../keys/kek-transport.js';
import { kekContext } from './kek-binding.js';
import { signAsService, verifyServiceSignature } from './service-signature.js';

export const KEK_DELIVERY_LABELS = Object.freeze({
  register: 'sealgate/kek-delivery/register/v1',
  keys: 'sealgate/kek-delivery/keys/v1',
});
export type KekDeliveryKind = keyof typeof KEK_DELIVERY_LABELS;

/** Length of the nonce a worker sends with `POST /v1/workers/keys`. */
export const KEY_POLL_NONCE_LENGTH = 32;

export interface KekDeliveryBinding {
  kind: KekDeliveryKind;
  /** 64 lower-case hex characters. */
  manifestDigest: string;
  /** SHA-256 of the addressee's certificate DER. */
  certificateSha256: Uint8Array;
  nonce: Uint8Array;
}

/** The exact bytes signed. Throws `invalid_argument` for a key that is not a SealedKek's shape. */
export function kekDeliveryBytes(binding: KekDeliveryBinding, keys: readonly SealedKek[]): Uint8Array {
  if (!(binding.certificateSha256 instanceof Uint8Array) || binding.certificateSha256.length !== 32) {
    throw new SealgateError('invalid_argument', 'kek delivery: certificateSha256 must be 32 bytes');
  }
  if (!(binding.nonce instanceof Uint8Array) || binding.nonce.length === 0) {
    throw new SealgateError('invalid_argument', 'kek delivery: nonce must be non-empty bytes');
  }
  const parts: Uint8Array[] = [
    utf8.encode(KEK_DELIVERY_LABELS[binding.kind]),
    kekContext(binding.manifestDigest),
    binding.certificateSha256,
    binding.nonce,
    u32be(keys.length),
  ];
  for (const k of keys) {
    if (typeof k?.kid !== 'string' || typeof k.enc !== 'string' || typeof k.ct !== 'string') {
      throw new SealgateError('invalid_argument', 'kek delivery: each key needs kid, enc and ct strings');
    }
    // enc and ct are signed as their base64url text: the worker's HPKE open decodes them strictly.
    parts.push(utf8.encode(k.kid), utf8.encode(k.enc), utf8.encode(k.ct));
  }
  return lengthPrefixed(...parts);
}

/** The service's side: `sig` for an answer carrying `keys`. */
export function signKekDelivery(
  signingKey: CryptoKey,
  binding: KekDeliveryBinding,
  keys: readonly SealedKek[],
): Promise<string> {
  return signAsService(signingKey, kekDeliveryBytes(binding, keys));
}

/**
 * The worker's side: returns the keys when `sig` is the attested service key's signature over them
 * for this worker and this nonce; otherwise throws `fetch_failed` (detail.reason
 * `key_delivery_unsigned` or `key_delivery_signature_invalid`) and nothing may be opened.
 */
export async function verifyKekDelivery(
  serviceSigningSpki: Uint8Array,
  binding: KekDeliveryBinding,
  answer: { keys: readonly unknown[]; sig: unknown },
): Promise<SealedKek[]> {
  const refuse = (reason: string, message: string): never => {
    throw new SealgateError('fetch_failed', `attestation service: ${message}`, { status: 200, reason });
  };
  if (answer.sig === undefined) refuse('key_delivery_unsigned', 'the key answer is not signed');
  let message: Uint8Array;
  try {
    message = kekDeliveryBytes(binding, answer.keys as SealedKek[]);
  } catch {
    return refuse('key_delivery_signature_invalid', 'the key answer holds a malformed key');
  }
  if (!(await verifyServiceSignature(serviceSigningSpki, answer.sig, message, 'the key answer'))) {
    refuse(
      'key_delivery_signature_invalid',
      'the key answer is not signed by the attested service for this worker and this request',
    );
  }
  return answer.keys as SealedKek[];
}
