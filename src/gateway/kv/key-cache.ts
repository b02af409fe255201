/**
 * The request path's keys: an isolate-memory copy of what the key-rotation DO published, read from
 * KV (`keys:<digest>`) at most every `KV_REFRESH_SECONDS`, or straight from the DO when a worker
 * says it does not know our key id (or KV has nothing yet). Reading keys never verifies evidence:
 * only the DO attests, and it publishes only keys the verified service confirmed.
 */
import type { Kek } from '../../keys/kek.js';
import { KeyRing } from '../../keys/key-ring.js';
import type { ExecutionContextLike } from '../cf-types.js';
import { nowSeconds } from '../clock.js';
import type { GatewayConfig, GatewayEnv } from '../config.js';
import { pokeRotation, rotationStub } from '../durable-objects/rotation-client.js';
import { log } from '../log.js';
import { unwrapKek } from './at-rest.js';
import { type PublishedKeys, readPublishedKeys } from './kv-store.js';

/** How long an isolate trusts its copy before looking at KV again. */
export const KV_REFRESH_SECONDS = 30;
/** How often an isolate with no usable key may ask the DO directly. */
const DO_REFRESH_SECONDS = 5;

interface Cached {
  digest: string;
  ring: KeyRing;
  loadedAt: number;
  askedDoAt: number;
}

let cached: Cached | undefined;

/** For tests: forget the isolate copy. */
export function resetKeyCache(): void {
  cached = undefined;
}

async function ringFrom(config: GatewayConfig, published: PublishedKeys | null): Promise<KeyRing> {
  const ring = new KeyRing();
  if (!published || published.manifestDigest !== config.manifestDigest || !Array.isArray(published.keys)) {
    return ring;
  }
  for (const stored of published.keys) {
    try {
      await ring.add(await unwrapKek(config.secret, config.manifestDigest, stored));
    } catch (e) {
      log('error', 'stored_key_rejected', { kid: stored?.kid, message: (e as Error).message });
    }
  }
  return ring;
}

/**
 * The key to seal under now. Throws `unknown_key` (nothing published: no verified service yet) or
 * `key_expired` (keys were published but the newest is past its notAfter: fail closed).
 */
export async function currentKey(
  env: GatewayEnv,
  config: GatewayConfig,
  ctx: ExecutionContextLike | undefined,
): Promise<Kek> {
  const now = nowSeconds();
  if (!cached || cached.digest !== config.manifestDigest || now - cached.loadedAt >= KV_REFRESH_SECONDS) {
    const read = await readPublishedKeys(env.SEALGATE_KV, config.secret, config.manifestDigest);
    if (!read.ok && read.reason === 'rejected') {
      // The KV copy does not authenticate (altered, swapped, written without our secret): never
      // use it. Take the DO's own copy (its storage is the source of truth) and have the DO
      // re-attest and publish again (rate-limited there), which overwrites the bad entry.
      pokeRotation(env, config.manifestDigest, 'recheckSoon', ctx);
      await refreshFromDo(env, config, ctx);
    } else {
      cached = {
        digest: config.manifestDigest,
        ring: await ringFrom(config, read.ok ? read.value : null),
        loadedAt: now,
        askedDoAt: cached?.digest === config.manifestDigest ? cached.askedDoAt : 0,
      };
    }
  }
  const copy = cached!;
  try {
    return copy.ring.current(now);
  } catch (e) {
    // KV may lag the DO (eventual consistency) or nothing was ever published: ask the DO (which
    // also schedules its alarm), rate-limited so a dead service does not turn into a DO storm.
    if (now - copy.askedDoAt < DO_REFRESH_SECONDS) throw e;
    await refreshFromDo(env, config, ctx);
    return cached!.ring.current(now);
  }
}

/** Replaces the isolate copy with what the DO holds now (after a worker's `unknown_key`). */
export async function refreshFromDo(
  env: GatewayEnv,
  config: GatewayConfig,
  _ctx?: ExecutionContextLike,
): Promise<void> {
  const now = nowSeconds();
  const published = await rotationStub(env, config.manifestDigest).publishedKeys();
  cached = {
    digest: config.manifestDigest,
    ring: await ringFrom(config, published),
    loadedAt: now,
    askedDoAt: now,
  };
}
