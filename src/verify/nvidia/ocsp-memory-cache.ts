/**
 * A bounded in-memory cache for OCSP responses (ocsp-fetch.ts `CertificateCache`), for the Node
 * services. Like the KV cache it is storage, not a trust store: every hit is verified again.
 * At most `maxEntries` entries (the oldest put is dropped first); an entry past its TTL is a miss.
 */
import type { CertificateCache } from '../kds.js';

export const OCSP_MEMORY_CACHE_MAX_ENTRIES = 1024;

export function memoryOcspCache(
  now: () => number = () => Date.now(),
  maxEntries = OCSP_MEMORY_CACHE_MAX_ENTRIES,
): CertificateCache {
  const entries = new Map<string, { value: Uint8Array; expires: number }>();
  return {
    async get(key) {
      const e = entries.get(key);
      if (e === undefined) return null;
      if (now() >= e.expires) {
        entries.delete(key);
        return null;
      }
      return e.value.slice();
    },
    async put(key, value, ttlSeconds) {
      entries.delete(key);
      entries.set(key, { value: value.slice(), expires: now() + ttlSeconds * 1000 });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}
