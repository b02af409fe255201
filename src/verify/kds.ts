/**
 * AMD Key Distribution Service (pub. 57230 §4 "KDS Interface"): where a verifier gets the
 * certificates an extended report did not carry.
 *
 *   VCEK        GET https://kdsintf.amd.com/vcek/v1/{product}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=
 *               (+ fmcSPL on Turin) → DER. hwid = CHIP_ID in hex: 64 bytes on Milan/Genoa, the first
 *               8 bytes on Turin. SPLs are REPORTED_TCB decoded for the product, in decimal.
 *   ASK + ARK   GET …/vcek/v1/{product}/cert_chain → PEM, ASK first, ARK second.
 *   ASVK + ARK  GET …/vlek/v1/{product}/cert_chain → PEM, ASVK first.
 *   A VLEK is provisioned by AMD to a cloud provider and is never served by KDS.
 *
 * Network and storage are passed in (`fetch`, `cache`), so this runs unchanged in workerd (a KV
 * cache), in Node and in tests (an in-memory fake). Failures never throw: they are returned as a
 * message, which the verifier turns into a `cert_missing` violation.
 *
 * Caching policy. The cache is storage, not a trust store: whatever comes out of it is verified
 * again, exactly like bytes from the network. What is worth storing is therefore a question of
 * availability, not of security: a cache that kept whatever a fetch returned (a captive portal's
 * HTML, a truncated body, a VCEK for another TCB after a KDS mix-up) would make every verification
 * fail for the whole TTL. So the verifier stores a fetched certificate only after it verified:
 * a cert_chain once its ARK is a trust anchor and its ASK/ASVK is signed by it, a VCEK once it
 * chains to that root and its hwID/SPLs are the ones the URL asked for. The TTL is at most
 * `ttlSeconds` (default 7 days, so that a reissued ASK is picked up within a week) and never
 * beyond the certificate's notAfter; a CRL (amd-crl.ts) is kept at most until its nextUpdate. Cache read/write errors count as misses.
 */
import { isBytes, toHex } from '../bytes.js';
import type { SnpProduct, TcbVersion } from '../evidence/snp/types.js';
import { type BodyLike, readCappedBody } from './capped-body.js';

export const KDS_BASE_URL = 'https://kdsintf.amd.com';

/** Default and bounds for cache lifetimes (Cloudflare KV's minimum expirationTtl is 60 s). */
export const KDS_DEFAULT_TTL_SECONDS = 7 * 24 * 3600;
export const KDS_MIN_TTL_SECONDS = 60;

/** No KDS answer is near this big (a VCEK is ~1.4 KB, a cert_chain ~4.5 KB). */
const MAX_BODY_BYTES = 64 * 1024;

/** What `fetch` returns, reduced to what is used (a `Response` fits). */
export interface ResponseLike extends BodyLike {
  ok: boolean;
  status: number;
}

export type KdsFetcher = (url: string) => Promise<ResponseLike | Uint8Array>;

export interface CertificateCache {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, value: Uint8Array, ttlSeconds: number): Promise<void>;
}

export interface KdsOptions {
  fetch: KdsFetcher;
  cache?: CertificateCache;
  /** Upper bound of a cache entry's lifetime; default 7 days. */
  ttlSeconds?: number;
  /**
   * Also fetch AMD's CRL for a chain to an AMD root (amd-crl.ts) and fail closed when it cannot be
   * had or checked. Set by every caller that reaches the network (the CLI, the gateway).
   */
  revocation?: boolean;
}

/** The cache key of a KDS URL: prefix `snp-kds:` + the URL (documented for the gateway's KV). */
export function kdsCacheKey(url: string): string {
  return `snp-kds:${url}`;
}

/** hwID length KDS expects per product (pub. 57230 §4.1; Turin: CHIP_ID[0:8]). */
const HWID_LENGTH: Record<SnpProduct, number> = { Milan: 64, Genoa: 64, Turin: 8 };

/** The VCEK URL for a chip (its 64-byte CHIP_ID) at a TCB decoded for `product`. */
export function vcekUrl(product: SnpProduct, chipId: Uint8Array, tcb: TcbVersion): string {
  const hwid = toHex(chipId.subarray(0, HWID_LENGTH[product]));
  const q = `blSPL=${tcb.bootloader}&teeSPL=${tcb.tee}&snpSPL=${tcb.snp}&ucodeSPL=${tcb.microcode}`;
  const fmc = product === 'Turin' ? `&fmcSPL=${tcb.fmc ?? 0}` : '';
  return `${KDS_BASE_URL}/vcek/v1/${product}/${hwid}?${q}${fmc}`;
}

/** The ASK+ARK (`vcek`) or ASVK+ARK (`vlek`) chain URL of a product. */
export function certChainUrl(product: SnpProduct, kind: 'vcek' | 'vlek'): string {
  return `${KDS_BASE_URL}/${kind}/v1/${product}/cert_chain`;
}

export type KdsResult = { ok: true; bytes: Uint8Array; fromCache: boolean } | { ok: false; error: string };

/** The bytes at `url`: from the cache when present, else fetched. Never throws. */
export async function kdsGet(kds: KdsOptions, url: string): Promise<KdsResult> {
  if (kds.cache) {
    try {
      const hit = await kds.cache.get(kdsCacheKey(url));
      if (hit !== null && isBytes(hit) && hit.length > 0)
        return { ok: true, bytes: hit.slice(), fromCache: true };
    } catch {
      // A broken cache is a miss: fall through to the network.
    }
  }
  let res: ResponseLike | Uint8Array;
  try {
    res = await kds.fetch(url);
  } catch (e) {
    return { ok: false, error: `KDS fetch of ${url} failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  let bytes: Uint8Array;
  if (isBytes(res)) bytes = res.slice();
  else if (res && typeof res === 'object' && typeof res.arrayBuffer === 'function') {
    if (!res.ok) return { ok: false, error: `KDS fetch of ${url} answered HTTP ${res.status}` };
    try {
      const capped = await readCappedBody(res, MAX_BODY_BYTES);
      if (capped === null) return { ok: false, error: `KDS body of ${url} is over ${MAX_BODY_BYTES} bytes` };
      bytes = capped;
    } catch (e) {
      return {
        ok: false,
        error: `KDS body of ${url} could not be read: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
  } else return { ok: false, error: `KDS fetcher returned neither bytes nor a response for ${url}` };
  if (bytes.length === 0) return { ok: false, error: `KDS answered an empty body for ${url}` };
  if (bytes.length > MAX_BODY_BYTES)
    return { ok: false, error: `KDS body of ${url} is ${bytes.length} bytes, too large` };
  return { ok: true, bytes, fromCache: false };
}

/**
 * Stores verified bytes for `url`, for min(ttlSeconds, seconds until `notAfter`). Skips lifetimes
 * under a minute. Never throws: a cache that cannot store only costs a later fetch.
 */
export async function kdsRemember(
  kds: KdsOptions,
  url: string,
  bytes: Uint8Array,
  notAfter: Date,
  now: Date,
): Promise<boolean> {
  if (!kds.cache) return false;
  const max = kds.ttlSeconds ?? KDS_DEFAULT_TTL_SECONDS;
  const ttl = Math.floor(Math.min(max, (notAfter.getTime() - now.getTime()) / 1000));
  if (!(ttl >= KDS_MIN_TTL_SECONDS)) return false;
  try {
    await kds.cache.put(kdsCacheKey(url), bytes.slice(), ttl);
    return true;
  } catch {
    return false;
  }
}
