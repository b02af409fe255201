/**
 * The gateway's identity key: the one key the attestation service takes KEKs from (docs/protocol.md
 * "Authenticated key upload"). An Ed25519 key pair (RFC 8032 §5.1, verified strictly as FIPS 186-5
 * §7.8 — no ZIP-215 leniency), made deterministically from GATEWAY_SECRET so every edge instance
 * holds the same key without storing it:
 *
 *   seed = HKDF-SHA256(salt = "", IKM = UTF-8(GATEWAY_SECRET), info = GATEWAY_KEY_LABEL, L = 32)  (RFC 5869)
 *   public key = Ed25519 public key of seed (RFC 8032 §5.1.5), 32 bytes; pinned by the manifest
 *   (`gateway.uploadKey`, docs/manifest.md), so the service — which runs the same manifest — knows
 *   whom to accept.
 *
 * Every signature is over `lengthPrefixed(label, …)` with a label per use (`SIGNED_LABELS`), so a
 * signature made for one message type never verifies as another. Pure: WebCrypto HKDF and
 * @noble/curves; no node:*.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { isBytes, toArrayBuffer, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { lengthPrefixed } from './encoding.js';

export const GATEWAY_KEY_LABEL = 'sealgate/gateway/v1/identity';
export const GATEWAY_PUBLIC_KEY_LENGTH = 32;
export const GATEWAY_SIGNATURE_LENGTH = 64;
/** The least GATEWAY_SECRET the gateway accepts (src/gateway/config.ts) and the CLI reads. */
export const MIN_SECRET_LENGTH = 32;

/** One label per signed message type (the first length-prefixed part of the signed bytes). */
export const SIGNED_LABELS = Object.freeze({
  kekUpload: 'sealgate/kek-upload/v2',
  kekRetire: 'sealgate/kek-retire/v1',
  attestationRequest: 'sealgate/attestation-request/v1',
  publicAttestationRequest: 'sealgate/public-attestation-request/v1',
});
export type SignedLabel = (typeof SIGNED_LABELS)[keyof typeof SIGNED_LABELS];

export interface GatewayKey {
  /** The Ed25519 secret seed (RFC 8032 §5.1.5). Never leaves the gateway. */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

export async function deriveGatewayKey(secret: string): Promise<GatewayKey> {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new SealgateError(
      'invalid_argument',
      `deriveGatewayKey: the secret must be at least ${MIN_SECRET_LENGTH} characters`,
    );
  }
  const ikm = await crypto.subtle.importKey('raw', toArrayBuffer(utf8.encode(secret)), 'HKDF', false, [
    'deriveBits',
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: new Uint8Array(0),
      info: toArrayBuffer(utf8.encode(GATEWAY_KEY_LABEL)),
    },
    ikm,
    256,
  );
  const seed = new Uint8Array(bits);
  return Object.freeze({ seed, publicKey: ed25519.getPublicKey(seed) });
}

/** The exact bytes signed: u32be-length-prefixed label then parts (src/keys/encoding.ts). */
export function signedBytes(label: SignedLabel, parts: readonly Uint8Array[]): Uint8Array {
  return lengthPrefixed(utf8.encode(label), ...parts);
}

export function signAsGateway(key: GatewayKey, label: SignedLabel, parts: readonly Uint8Array[]): Uint8Array {
  if (!isBytes(key?.seed, 32))
    throw new SealgateError('invalid_argument', 'signAsGateway: seed must be 32 bytes');
  return ed25519.sign(signedBytes(label, parts), key.seed);
}

/** True only for a valid Ed25519 signature by `publicKey` (strict RFC 8032 decoding, no ZIP-215). */
export function verifyGatewaySignature(
  publicKey: Uint8Array,
  signature: Uint8Array,
  label: SignedLabel,
  parts: readonly Uint8Array[],
): boolean {
  if (!isBytes(publicKey, GATEWAY_PUBLIC_KEY_LENGTH) || !isBytes(signature, GATEWAY_SIGNATURE_LENGTH)) {
    return false;
  }
  try {
    return ed25519.verify(signature, signedBytes(label, parts), publicKey, { zip215: false });
  } catch {
    return false;
  }
}
