/**
 * The gateway's identity key (src/keys/gateway-key.ts), derived from GATEWAY_SECRET, checked against
 * the manifest's pin: the attestation service takes keys only from `manifest.gateway.uploadKey`, so a
 * gateway whose secret does not derive that key — or a manifest that pins none — cannot rotate, and
 * says so here instead of as a refusal from the service. Memoised per secret (one HKDF per isolate).
 */
import { constantTimeEqual, fromHex, toHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { deriveGatewayKey, type GatewayKey } from '../keys/gateway-key.js';
import type { Manifest } from '../policy/manifest-types.js';

const derived = new Map<string, Promise<GatewayKey>>();

export async function gatewayIdentity(secret: string, manifest: Manifest): Promise<GatewayKey> {
  let key = derived.get(secret);
  if (!key) {
    key = deriveGatewayKey(secret);
    derived.set(secret, key);
  }
  const identity = await key;
  const pin = manifest.gateway?.uploadKey;
  if (pin === undefined) {
    throw new SealgateError('invalid_manifest', 'the manifest pins no gateway key (gateway.uploadKey)');
  }
  if (!constantTimeEqual(fromHex(pin, 32), identity.publicKey)) {
    throw new SealgateError(
      'invalid_manifest',
      'GATEWAY_SECRET does not derive the gateway key the manifest pins',
      {
        pinned: pin,
        derived: toHex(identity.publicKey),
      },
    );
  }
  return identity;
}
