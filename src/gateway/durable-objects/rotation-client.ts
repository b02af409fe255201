/**
 * How the gateway reaches the key-rotation Durable Object (key-rotation.ts): one object per
 * manifest digest, called through its Workers RPC methods.
 */
import type { DurableObjectStub, ExecutionContextLike } from '../cf-types.js';
import type { GatewayEnv } from '../config.js';
import type { KeyRotation } from './key-rotation.js';

/** The key-rotation object of the manifest `digest`. */
export function rotationStub(env: GatewayEnv, digest: string): DurableObjectStub<KeyRotation> {
  return env.KEY_ROTATION.get(env.KEY_ROTATION.idFromName(digest));
}

/**
 * Asks the object to run a rotation soon — `ensureAlarm` (an alarm if none is pending) or
 * `recheckSoon` (an alarm now, rate-limited by the object) — without waiting for it: the request
 * path never waits for an attestation. A failed ask is dropped; the next request asks again.
 */
export function pokeRotation(
  env: GatewayEnv,
  digest: string,
  ask: 'ensureAlarm' | 'recheckSoon',
  ctx: ExecutionContextLike | undefined,
): void {
  const poke = rotationStub(env, digest)
    [ask]()
    .catch(() => undefined);
  ctx?.waitUntil(poke);
}
