/**
 * The CLI's KDS access: the platform `fetch` with a timeout, no cache (each run is one process).
 * AMD's KDS rate-limits; the gateway caches in KV instead. AMD's CRL is fetched and checked too
 * (src/verify/amd-crl.ts) for chains to AMD's roots.
 */
import type { KdsOptions } from '../verify/kds.js';

export function cliKds(timeoutMs = 15_000): KdsOptions {
  return {
    fetch: (url) => fetch(url, { signal: AbortSignal.timeout(timeoutMs) }),
    revocation: true,
  };
}
