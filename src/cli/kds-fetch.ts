/**
 * The CLI's KDS access: the platform `fetch` with a timeout, no cache (each run is one process).
 * AMD's KDS rate-limits; the gateway caches in KV instead. AMD's CRL is fetched and checked too
 * (src/verify/amd-crl.ts) for chains to AMD's roots.
 */
import type { KdsOptions } from '../verify/kds.js';
import type { PcsOptions } from '../verify/tdx/pcs.js';

export function cliKds(timeoutMs = 15_000): KdsOptions {
  return {
    fetch: (url) => fetch(url, { signal: AbortSignal.timeout(timeoutMs) }),
    revocation: true,
  };
}

/**
 * The CLI's Intel PCS access for TDX collateral a bundle lacks: SEALGATE_PCS_URL (a PCCS) or Intel's
 * PCS, the platform `fetch` with a timeout, no cache.
 */
export function cliPcs(baseUrl: string | undefined, timeoutMs = 15_000): PcsOptions {
  return {
    fetch: (url) => fetch(url, { signal: AbortSignal.timeout(timeoutMs) }),
    ...(baseUrl ? { baseUrl } : {}),
  };
}
