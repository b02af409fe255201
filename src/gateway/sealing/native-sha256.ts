/**
 * SHA-256 for the gateway's stream receipt hash (`createStreamHash`; src/receipts/receipt.ts)
 * through workerd's `node:crypto` `createHash` (nodejs_compat: BoringSSL, synchronous, on the
 * isolate's thread). The default, noble's pure-JavaScript SHA-256, was about a tenth of the
 * gateway's CPU on a sealed stream in a CPU profile (every byte of the stream is hashed);
 * WebCrypto's digest has no incremental form. Same function (FIPS 180-4), same hex. A whole JSON
 * answer is hashed by WebCrypto's one-shot digest instead: this Hash is a stream.Transform, and
 * constructing one costs more than hashing a few kilobytes (receipt-check.ts).
 *
 * Updates are batched: each `Hash.update` crosses workerd's JavaScript compatibility layer at a
 * fixed cost (about as much as hashing 300 bytes), and a stream makes one per network read, many
 * of them a single small record (the first event goes out alone); SHA-256 of the concatenation
 * does not depend on how it is split, so small updates are gathered into one buffer of BATCH_BYTES
 * per stream and hashed when it fills or at the digest. The buffer is per hash (no sharing between
 * streams) and bounds the memory it adds.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Sha256State } from '../../receipts/receipt.js';

/** Gathered bytes per stream before one update: several frames of a typical chat stream. */
export const BATCH_BYTES = 4096;

class BatchedSha256 implements Sha256State {
  readonly #hash: Hash = createHash('sha256');
  #buffer: Uint8Array | undefined;
  #used = 0;

  update(data: Uint8Array): void {
    if (data.length > BATCH_BYTES - this.#used) this.#flush();
    if (data.length >= BATCH_BYTES) {
      this.#hash.update(data); // after the flush above: order is kept
      return;
    }
    this.#buffer ??= new Uint8Array(BATCH_BYTES);
    this.#buffer.set(data, this.#used); // copied now: the caller may reuse `data`
    this.#used += data.length;
  }

  digest(): Uint8Array {
    this.#flush();
    return new Uint8Array(this.#hash.digest());
  }

  #flush(): void {
    if (this.#used === 0 || !this.#buffer) return;
    this.#hash.update(this.#buffer.subarray(0, this.#used)); // hashed synchronously: reusable after
    this.#used = 0;
  }
}

export const nativeSha256 = (): Sha256State => new BatchedSha256();
