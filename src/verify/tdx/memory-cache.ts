/**
 * An in-memory `CollateralCache` (pcs.ts) for the Node services: entries expire at their TTL, which
 * pcs.ts bounds by the collateral's earliest nextUpdate, and the map is capped so that a stream of
 * distinct FMSPCs cannot grow it without bound (oldest entries go first). What comes out is verified
 * again by the caller, like bytes from the network.
 */
import type { CollateralCache } from './pcs.js';

const MAX_ENTRIES = 64;

export function memoryCollateralCache(now: () => number = () => Date.now()): CollateralCache {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    async get(key) {
      const e = entries.get(key);
      if (e === undefined) return null;
      if (now() >= e.expiresAt) {
        entries.delete(key);
        return null;
      }
      return e.value;
    },
    async put(key, value, ttlSeconds) {
      entries.delete(key);
      entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
      while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
    },
  };
}
