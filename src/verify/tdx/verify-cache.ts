/**
 * A bounded, in-memory cache of what verifyTdxEvidence established about Intel's side of a quote,
 * so that the next quote of a known platform re-does only what depends on the quote: its own
 * signature, the QE report's signature under the (cached) PCK key, the QE binding, the TCB match.
 * (dcap-qvl and Intel's QVL re-parse and re-verify all of it on every call; PCCS collateral changes
 * at most daily, the chains and CRLs less often.)
 *
 * What an entry vouches for, and nothing more (keys are the exact input text or bytes, so no digest
 * has to stand for them):
 *   - `chain:` — "these exact PEM bytes parsed to these certificates, each signed by the next with
 *     the CN its place requires, CA flags and critical extensions right, anchored at the pinned
 *     root". Validity dates are NOT part of it: every call checks them again at its own time.
 *   - `signed:` — "this exact collateral body verified under this exact signature and this signer
 *     (by its certificate's SHA-256), and decoded to this value". issueDate/nextUpdate are checked
 *     again on every call.
 *   - `crl:` — "this exact CRL DER parsed to this CRL, named this issuer and verified under its key
 *     (by its certificate's SHA-256)". thisUpdate/nextUpdate are checked again on every call.
 * Only successes are stored, so a failure is never remembered as a success, and input that does
 * not verify (an attacker's chain, CRL or collateral) never enters or evicts anything verified
 * before it... except by LRU pressure from other inputs that did verify. Pure: the caller passes
 * one cache per isolate/process, like the SNP chain cache (src/verify/chain-cache.ts).
 */
export interface TdxVerifyCache {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
  readonly size: number;
}

/**
 * One platform needs 5 entries (PCK chain, two issuer chains, TCB info, QE identity) plus 2 CRLs and
 * the PCK CRL issuer chain; 64 holds several platforms and a collateral refresh.
 */
export const DEFAULT_TDX_CACHE_ENTRIES = 64;

export function createTdxVerifyCache(maxEntries = DEFAULT_TDX_CACHE_ENTRIES): TdxVerifyCache {
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError('createTdxVerifyCache: maxEntries must be a positive integer');
  }
  const entries = new Map<string, unknown>();
  return {
    get<T>(key: string): T | undefined {
      const hit = entries.get(key);
      if (hit !== undefined) {
        // Map keeps insertion order: re-inserting makes this the most recently used.
        entries.delete(key);
        entries.set(key, hit);
      }
      return hit as T | undefined;
    },
    set<T>(key: string, value: T): void {
      entries.delete(key);
      entries.set(key, value);
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    get size() {
      return entries.size;
    },
  };
}
