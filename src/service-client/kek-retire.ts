/**
 * The gateway's signed request that the attestation service drop keys it holds but the gateway
 * never published: orphans (docs/protocol.md "Retiring orphan keys"). A rotation whose upload
 * answer or confirmation was lost, or a key-rotation Durable Object that lost its storage, leaves
 * a key in one of the service's 16 slots (src/attestation-service/key-store.ts); sixteen within a
 * key lifetime and the service refused every upload until they expired, so rotation stopped.
 *
 * Wire form (JSON): { "v": 1, "kids": [kid, …], "sig" }
 *   kids  1..16 distinct key ids (22 base64url characters each), in the order signed
 *   sig   base64url of the 64-byte Ed25519 signature (RFC 8032 §5.1.6) by the gateway's identity
 *         key (src/keys/gateway-key.ts, pinned by the manifest as `gateway.uploadKey`) over
 *
 *   M = LP("sealgate/kek-retire/v1") ‖ LP(manifest digest, 32 raw bytes) ‖ LP(service hpke key, 1216)
 *       ‖ LP(u32be(n)) ‖ for each of the n kids: LP(UTF-8(kid))          LP(x) = u32be(len(x)) ‖ x
 *
 * The same binding as an upload (src/keys/kek-upload.ts): only the gateway the manifest pins, for
 * this manifest, to this service instance. No nonce: a replayed retire names keys the gateway
 * already gave up. Kids derive from key bytes (docs/protocol.md "Key ids"), and the gateway retires
 * only kids absent from its own storage, which it writes before it uploads a key — so a kid it
 * retired never becomes one it holds, and replaying the request removes nothing it uses.
 */
import { toBase64Url, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { decodeBase64UrlField, u32be } from '../keys/encoding.js';
import {
  GATEWAY_SIGNATURE_LENGTH,
  type GatewayKey,
  SIGNED_LABELS,
  signAsGateway,
  verifyGatewaySignature,
} from '../keys/gateway-key.js';
import { KID_PATTERN } from '../keys/kek.js';
import type { UploadBinding } from '../keys/kek-upload.js';

export const RETIRE_FIELDS = ['v', 'kids', 'sig'] as const;
/** At most as many kids as the service holds keys (key-store.ts MAX_SERVICE_KEYS). */
export const MAX_RETIRE_KIDS = 16;

export interface SignedKekRetire {
  readonly v: 1;
  readonly kids: readonly string[];
  readonly sig: string;
}

function parts(b: UploadBinding, kids: readonly string[]): Uint8Array[] {
  return [b.manifestDigest, b.serviceHpkeKey, u32be(kids.length), ...kids.map((k) => utf8.encode(k))];
}

/** The kids if they are 1..16 distinct well-formed ids; else throws `invalid_argument`. */
export function checkRetireKids(kids: unknown): string[] {
  const bad = (why: string): never => {
    throw new SealgateError('invalid_argument', `kek retire: kids ${why}`);
  };
  if (!Array.isArray(kids) || kids.length === 0 || kids.length > MAX_RETIRE_KIDS) {
    return bad(`must be an array of 1..${MAX_RETIRE_KIDS} key ids`);
  }
  for (const kid of kids) if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) bad('must be key ids');
  if (new Set(kids).size !== kids.length) bad('must be distinct');
  return kids as string[];
}

export function signKekRetire(
  key: GatewayKey,
  kids: readonly string[],
  binding: UploadBinding,
): SignedKekRetire {
  const checked = checkRetireKids([...kids]);
  const sig = signAsGateway(key, SIGNED_LABELS.kekRetire, parts(binding, checked));
  return Object.freeze({ v: 1, kids: Object.freeze(checked), sig: toBase64Url(sig) });
}

/**
 * The kids of `request` when its `sig` verifies under `gatewayPublicKey` for `binding`; null when
 * it is well-formed but not so signed. Throws `invalid_argument` for a malformed request.
 */
export function verifyKekRetire(
  gatewayPublicKey: Uint8Array,
  request: Record<string, unknown>,
  binding: UploadBinding,
): string[] | null {
  if (request.v !== 1) throw new SealgateError('invalid_argument', 'kek retire: v must be 1');
  const kids = checkRetireKids(request.kids);
  const sig = decodeBase64UrlField(request.sig, {
    code: 'invalid_argument',
    message: `kek retire: sig must be ${GATEWAY_SIGNATURE_LENGTH} bytes of canonical base64url`,
    length: GATEWAY_SIGNATURE_LENGTH,
  });
  const ok = verifyGatewaySignature(gatewayPublicKey, sig, SIGNED_LABELS.kekRetire, parts(binding, kids));
  return ok ? kids : null;
}
