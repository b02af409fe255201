/**
 * A bounded, in-memory cache of AMD chains that verified, so that a second report of the same
 * product neither parses AMD's RSA-4096 certificates again nor re-verifies their RSASSA-PSS
 * signatures (docs/benchmarks.md "Reading the figures", `snp.cold.*`).
 *
 * Upper chains (ARK → ASK/ASVK). What an entry vouches for, and nothing more: "these exact ARK and
 * ASK/ASVK bytes — keyed by the SHA-256 of each DER (RFC 6234; collision resistance makes the
 * digest stand for the bytes) — parsed to these values, the ARK's self-signature and the ASK's
 * signature under the ARK verified, and the whole upper chain was trusted (anchored root, names, CA
 * flags, critical extensions, dates) when it was stored". Every verification still checks the
 * anchors, names, flags and dates again from the cached values (cheap).
 *
 * Leaves (VCEK/VLEK). An entry says "a leaf delivered as exactly these bytes (compared byte for
 * byte) parsed to this certificate, and its signature verified under the ASK/ASVK of the upper
 * chain `upperKey`, as part of a verification that produced claims". A signature check is a pure
 * function of the signed bytes, the signature and the issuer's key, so it is skipped only when the
 * leaf's bytes are these and its issuer is that same cached upper chain (verify-chain.ts). The
 * leaf's issuer name, critical extensions, AMD extensions, product, dates, revocation and binding
 * to the report, and the report's own signature, are checked on every call. A VCEK is one per chip
 * and TCB, so a verifier that sees a host's workers (the attestation service) or one service again
 * and again (the gateway's nonce attestations) meets the same leaf bytes each time.
 *
 * Only successes are stored (`verifyChain` calls `set` only after the upper chain verified; a leaf
 * is noted only after a whole verification produced claims), so a failure is never remembered as
 * a success, and an attacker's self-made chain (not anchored) never enters or evicts anything; a
 * leaf enters only with a report it signed. Pure: the cache is passed in by the caller (one per
 * isolate/process).
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

/** A leaf that verified before: its parse, and the upper chain whose key verified its signature. */
export interface VerifiedLeaf {
  readonly cert: ParsedCertificate;
  /** `chainCacheKey` of the upper chain whose ASK/ASVK key verified `cert`'s signature. */
  readonly upperKey: string;
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
  /** The leaf delivered as exactly these bytes (PEM or DER, compared byte for byte), if noted. */
  leafOfSource(bytes: Uint8Array): VerifiedLeaf | undefined;
  /** Notes (copying `bytes`) a leaf whose verification produced claims; evicts the least recent. */
  noteLeaf(bytes: Uint8Array, leaf: VerifiedLeaf): void;
}

/** The key of an upper chain: the SHA-256 (hex) of the intermediate's DER, then of the root's. */
export function chainCacheKey(intermediateSha256: string, rootSha256: string): string {
  return `${intermediateSha256}:${rootSha256}`;
}

/** AMD has one ARK and two intermediates (ASK, ASVK) per product: a handful of entries is plenty. */
export const DEFAULT_CHAIN_CACHE_ENTRIES = 16;

/** One VCEK per chip and TCB: a verifier's hosts, each at one or two TCBs at a time. */
export const DEFAULT_LEAF_CACHE_ENTRIES = 128;

/**
 * A least-recently-used cache of at most `maxEntries` upper chains and `maxLeaves` leaves.
 */
export function createChainCache(
  maxEntries = DEFAULT_CHAIN_CACHE_ENTRIES,
  maxLeaves = DEFAULT_LEAF_CACHE_ENTRIES,
): ChainCache {
  for (const [name, n] of [
    ['maxEntries', maxEntries],
    ['maxLeaves', maxLeaves],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`createChainCache: ${name} must be a positive integer`);
    }
  }
  const entries = new Map<string, VerifiedUpperChain>();
  const leaves = createLeafMemo(maxLeaves);
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
    ...leaves,
  };
}

/**
 * Leaves by their exact bytes: a Map under a 32-bit FNV-1a of the bytes (not a security
 * property: a hit is confirmed byte for byte, a collision only replaces the older entry).
 */
function createLeafMemo(max: number): Pick<ChainCache, 'leafOfSource' | 'noteLeaf'> {
  const leaves = new Map<number, { bytes: Uint8Array; leaf: VerifiedLeaf }>();
  const leafOfSource = (bytes: Uint8Array): VerifiedLeaf | undefined => {
    const key = fnv1a(bytes);
    const hit = leaves.get(key);
    if (hit === undefined || !sameBytes(hit.bytes, bytes)) return undefined;
    leaves.delete(key); // most recently used last (Map keeps insertion order)
    leaves.set(key, hit);
    return hit.leaf;
  };
  const noteLeaf = (bytes: Uint8Array, leaf: VerifiedLeaf): void => {
    const key = fnv1a(bytes);
    leaves.delete(key);
    leaves.set(key, {
      bytes: bytes.slice(),
      leaf: Object.freeze({ cert: leaf.cert, upperKey: leaf.upperKey }),
    });
    while (leaves.size > max) leaves.delete(leaves.keys().next().value as number);
  };
  return { leafOfSource, noteLeaf };
}

/** FNV-1a, 32 bits (a Map key only; see createLeafMemo). */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** Byte-for-byte equality of two lists of byte strings (not secret: public certificates). */
function sameParts(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const y = b[i];
    if (!(y instanceof Uint8Array) || !sameBytes(a[i]!, y)) return false;
  }
  return true;
}

/** Equal bytes; 4 at a time where both are 4-byte aligned (a cert_chain is ~4.5 KB). */
function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  let j = 0;
  if (x.byteOffset % 4 === 0 && y.byteOffset % 4 === 0) {
    const words = x.length >>> 2;
    const xw = new Uint32Array(x.buffer, x.byteOffset, words);
    const yw = new Uint32Array(y.buffer, y.byteOffset, words);
    for (let w = 0; w < words; w++) if (xw[w] !== yw[w]) return false;
    j = words << 2;
  }
  for (; j < x.length; j++) if (x[j] !== y[j]) return false;
  return true;
}
