/**
 * The gateway → attestation-service KEK upload, authenticated (docs/protocol.md "Authenticated key
 * upload"). X-Wing has no authenticated KEM, so RFC 9180's Auth and AuthPSK modes (§5.1.3–5.1.4)
 * are not available; the sealed KEK (kek-transport.ts, HPKE base mode) is signed instead by the
 * gateway's identity key (gateway-key.ts), and the service opens nothing that does not verify.
 *
 * Wire form (JSON): { "v": 2, "kid", "enc", "ct", "sig" }   (v 1 was the unsigned upload; refused)
 *   kid, enc, ct  exactly as SealedKek (kek-transport.ts)
 *   sig           base64url of the 64-byte Ed25519 signature (RFC 8032 §5.1.6) over
 *
 *   M = LP("sealgate/kek-upload/v2") ‖ LP(manifest digest, 32 raw bytes) ‖ LP(service hpke key, 1216)
 *       ‖ LP(UTF-8(kid)) ‖ LP(enc) ‖ LP(ct)                    LP(x) = u32be(len(x)) ‖ x
 *
 * The digest binds the upload to the manifest both sides run; the service's attested HPKE key binds
 * it to one service instance (its keys are made at start), so a captured upload replays only to the
 * service it was made for — where the same kid is already held and accepting it again changes
 * nothing (key-store.ts).
 */
import { toBase64Url, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { decodeBase64UrlField } from './encoding.js';
import {
  GATEWAY_SIGNATURE_LENGTH,
  type GatewayKey,
  SIGNED_LABELS,
  signAsGateway,
  verifyGatewaySignature,
} from './gateway-key.js';
import { XWING_ENC_LENGTH } from './hpke.js';
import { KEK_RECORD_LENGTH, KID_PATTERN } from './kek.js';
import type { SealedKek } from './kek-transport.js';

export const SIGNED_UPLOAD_FIELDS = ['v', 'kid', 'enc', 'ct', 'sig'] as const;

export interface SignedKekUpload {
  readonly v: 2;
  readonly kid: string;
  readonly enc: string;
  readonly ct: string;
  readonly sig: string;
}

export interface UploadBinding {
  /** The 32 raw bytes of the manifest digest (kek-binding.ts `kekContext`). */
  manifestDigest: Uint8Array;
  /** The service's attested X-Wing public key the KEK is sealed to. */
  serviceHpkeKey: Uint8Array;
}

function parts(b: UploadBinding, kid: string, enc: Uint8Array, ct: Uint8Array): Uint8Array[] {
  return [b.manifestDigest, b.serviceHpkeKey, utf8.encode(kid), enc, ct];
}

function field(value: unknown, name: string, length: number): Uint8Array {
  return decodeBase64UrlField(value, {
    code: 'decryption_failed',
    message: `signed upload: ${name} must be ${length} bytes of canonical base64url`,
    length,
  });
}

export function signKekUpload(key: GatewayKey, sealed: SealedKek, binding: UploadBinding): SignedKekUpload {
  const enc = field(sealed.enc, 'enc', XWING_ENC_LENGTH);
  const ct = field(sealed.ct, 'ct', KEK_RECORD_LENGTH + 16);
  const sig = signAsGateway(key, SIGNED_LABELS.kekUpload, parts(binding, sealed.kid, enc, ct));
  return Object.freeze({ v: 2, kid: sealed.kid, enc: sealed.enc, ct: sealed.ct, sig: toBase64Url(sig) });
}

/**
 * The SealedKek inside `upload` when `sig` verifies under `gatewayPublicKey`; else throws
 * `decryption_failed` (malformed) or returns null (well-formed, not signed by that key). Nothing is
 * decrypted here: the HPKE open happens only after this.
 */
export function verifyKekUpload(
  gatewayPublicKey: Uint8Array,
  upload: Record<string, unknown>,
  binding: UploadBinding,
): SealedKek | null {
  const { v, kid, enc, ct, sig } = upload;
  if (v !== 2) throw new SealgateError('decryption_failed', 'signed upload: v must be 2');
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw new SealgateError('decryption_failed', 'signed upload: kid must be 22 base64url characters');
  }
  const encBytes = field(enc, 'enc', XWING_ENC_LENGTH);
  const ctBytes = field(ct, 'ct', KEK_RECORD_LENGTH + 16);
  const sigBytes = field(sig, 'sig', GATEWAY_SIGNATURE_LENGTH);
  const ok = verifyGatewaySignature(
    gatewayPublicKey,
    sigBytes,
    SIGNED_LABELS.kekUpload,
    parts(binding, kid, encBytes, ctBytes),
  );
  return ok ? { v: 1, kid, enc: enc as string, ct: ct as string } : null;
}
