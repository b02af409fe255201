/**
 * A bounded, in-memory cache of AMD upper chains (ARK → ASK/ASVK) that verified, so that a second
 * report of the same product neither parses AMD's two RSA-4096 certificates again nor re-verifies
 * their two RSASSA-PSS signatures (docs/benchmarks.md "Reading the figures", `snp.cold.*`).
 *
 * What an entry vouches for, and nothing more: "these exact ARK and ASK/ASVK bytes — keyed by the
 * SHA-256 of each DER (RFC 6234; collision resistance makes the digest stand for the bytes) — parsed
 * to these values, the ARK's self-signature and the ASK's signature under the ARK verified, and the
 * whole upper chain was trusted (anchored root, names, CA flags, critical extensions, dates) when it
 * was stored". Every verification still checks the anchors, names, flags and dates again from the
 * cached values (cheap), and ALWAYS verifies the leaf's (VCEK/VLEK) signature under the ASK and the
 * report's signature under the leaf: a cache hit never skips a check that involves the leaf or report.
 *
 * Only successes are stored (`verifyChain` calls `set` only after the upper chain verified), so a
 * failure is never remembered as a success, and an attacker's self-made chain (not anchored) never
 * enters or evicts anything. Pure: the cache is passed in by the caller (one per isolate/process).
 *
 * Beside the entries, the exact bytes that delivered a trusted upper chain point at its key
 * (`keyOfSource`), so that the same `cert_chain` arriving again is neither PEM-decoded nor hashed:
 * ~30 µs of a ~1.1 ms chain-cached verification in Node. Equal bytes decode to the same DER, so
 * this adds no trust the DER key did not give; any other bytes take the DER path above.
 */
import type { ParsedCertificate } from './certificates.js';
import type { SignatureBackend, VerifyKey } from './signature-backend.js';

export interface VerifiedUpperChain {
  readonly intermediate: ParsedCertificate;
  readonly root: ParsedCertificate;
  /** The ASK/ASVK's public key, imported once: every leaf is still verified under it. */
  readonly intermediateKey: VerifyKey;
  /** The backend that imported `intermediateKey`: another backend imports the key again. */
  readonly signatures: SignatureBackend;
}

export interface ChainCache {
  get(key: string): VerifiedUpperChain | undefined;
  set(key: string, entry: VerifiedUpperChain): void;
  readonly size: number;
  /**
   * The key under which an upper chain delivered as exactly these bytes (the ASK/ARK parts as the
   * evidence carried them, PEM or DER, compared byte for byte) was trusted before: a hit spares
   * decoding and hashing them again. Only a key: its entry must still be `get` (it may be gone).
   */
  keyOfSource(parts: readonly Uint8Array[]): string | undefined;
  /** Notes that `parts` (copied here) delivered the upper chain stored under `key`. */
  noteSource(parts: readonly Uint8Array[], key: string): void;
}

/** The key of an upper chain: the SHA-256 (hex) of the intermediate's DER, then of the root's. */
export function chainCacheKey(intermediateSha256: string, rootSha256: string): string {
  return `${intermediateSha256}:${rootSha256}`;
}

/** AMD has one ARK and two intermediates (ASK, ASVK) per product: a handful of entries is plenty. */
export const DEFAULT_CHAIN_CACHE_ENTRIES = 16;

/** A least-recently-used cache of at most `maxEntries` upper chains. */
export function createChainCache(maxEntries = DEFAULT_CHAIN_CACHE_ENTRIES): ChainCache {
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError('createChainCache: maxEntries must be a positive integer');
  }
  const entries = new Map<string, VerifiedUpperChain>();
  // Most recent first; as bounded as the entries. Copies: the caller's buffers may change later.
  const sources: { parts: Uint8Array[]; key: string }[] = [];
  return {
    get(key) {
      const hit = entries.get(key);
      if (hit !== undefined) {
        // Map keeps insertion order: re-inserting makes this the most recently used.
        entries.delete(key);
        entries.set(key, hit);
      }
      return hit;
    },
    set(key, entry) {
      entries.delete(key);
      entries.set(key, entry);
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    get size() {
      return entries.size;
    },
    keyOfSource(parts) {
      return sources.find((s) => sameParts(s.parts, parts))?.key;
    },
    noteSource(parts, key) {
      if (sources.some((s) => sameParts(s.parts, parts))) return;
      sources.unshift({ parts: parts.map((p) => p.slice()), key });
      if (sources.length > maxEntries) sources.pop();
    },
  };
}

/** Byte-for-byte equality of two lists of byte strings (not secret: public certificates). */
function sameParts(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!(y instanceof Uint8Array) || x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}
