/**
 * A bounded, in-memory cache of GPU device chains that verified, so that the next report of the
 * same GPU — every registration of a worker asks its GPUs again — neither parses its five
 * certificates again nor re-verifies their five ECDSA P-384 signatures (docs/benchmarks.md,
 * `gpu.verify.chainCached`). Like src/verify/chain-cache.ts for AMD's upper chains.
 *
 * What an entry vouches for, and nothing more: "these exact chain bytes — keyed by their SHA-256
 * (RFC 6234) — parsed to these certificates, and every check of ecdsa-chain.ts passed when stored".
 * On a hit the verifier still checks, from the cached values, that the root is one the CALLER
 * trusts (roots differ per manifest) and that every certificate is valid at the caller's `at`; the
 * FWID binding, the SPDM signature under the leaf's key and the nonce are always checked afresh.
 * Only chains without any violation are stored, so a failure is never remembered as a success and
 * an unanchored chain never enters or evicts anything. Pure: the caller keeps one per process.
 */
import type { Certificate } from '../../der/certificate.js';

export interface VerifiedDeviceChain {
  /** Leaf first, root last. */
  readonly certs: readonly Certificate[];
  /** The leaf's P-384 key, imported once. */
  readonly leafKey: CryptoKey;
}

export const DEFAULT_DEVICE_CHAIN_CACHE_ENTRIES = 64;

/** Least-recently-stored eviction: a full cache forgets its oldest entry. */
export class DeviceChainCache {
  readonly #entries = new Map<string, VerifiedDeviceChain>();
  readonly #max: number;

  constructor(max = DEFAULT_DEVICE_CHAIN_CACHE_ENTRIES) {
    this.#max = max;
  }

  get(key: string): VerifiedDeviceChain | undefined {
    return this.#entries.get(key);
  }

  set(key: string, entry: VerifiedDeviceChain): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, entry);
  }

  get size(): number {
    return this.#entries.size;
  }
}
