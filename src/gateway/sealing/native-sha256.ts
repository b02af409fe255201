/**
 * SHA-256 for the gateway's stream receipt hash (the function of `createStreamHash`,
 * src/receipts/receipt.ts: `streamSha256` below) — past GATHER_BYTES through workerd's `node:crypto`
 * `createHash` (nodejs_compat: BoringSSL, synchronous, on the isolate's thread). The default, noble's pure-JavaScript SHA-256, was about a tenth of the
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
 *
 * A stream's receipt hash (`streamSha256`) does not make that Hash at all while the stream is short:
 * its bytes are gathered (copied) up to GATHER_BYTES and hashed at the end by ONE WebCrypto digest;
 * only a longer stream makes the Hash, feeds it what was gathered, in order, and goes on
 * incrementally, so memory stays bounded by GATHER_BYTES whatever the stream's length. The Hash's
 * construction, updates and digest cost the gateway ~70–120 µs per stream in a CPU profile
 * (docs/gateway.md "Where a stream's relay CPU goes"), one digest of a 17 KB bench stream far less.
 */
import { createHash, type Hash } from 'node:crypto';
import { concatBytes, sha256 } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
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

/** A stream's bytes gathered at most for one digest at its end: a bench chat stream is ~17 KB. */
export const GATHER_BYTES = 64 * 1024;

/** SHA-256 of a stream's bytes as they come; the digest once, at the end. */
export interface StreamSha256 {
  update(data: Uint8Array): void;
  /** After it, `update` refuses. */
  digest(): Promise<Uint8Array>;
}

class GatheredSha256 implements StreamSha256 {
  /** Copies of the updates so far, in order, GATHER_BYTES at most; none once #native took over. */
  #parts: Uint8Array[] = [];
  #gathered = 0;
  #native: BatchedSha256 | undefined;
  #done = false;

  update(data: Uint8Array): void {
    if (this.#done) throw new SealgateError('internal', 'stream hash: already finished');
    if (this.#native) {
      this.#native.update(data);
      return;
    }
    if (this.#gathered + data.length <= GATHER_BYTES) {
      this.#parts.push(data.slice()); // copied now: the caller may reuse `data`
      this.#gathered += data.length;
      return;
    }
    const native = new BatchedSha256();
    for (const part of this.#parts) native.update(part);
    this.#parts = [];
    native.update(data);
    this.#native = native;
  }

  async digest(): Promise<Uint8Array> {
    if (this.#done) throw new SealgateError('internal', 'stream hash: already finished');
    this.#done = true;
    if (this.#native) return this.#native.digest();
    const parts = this.#parts;
    this.#parts = [];
    return await sha256(parts.length === 1 ? parts[0]! : concatBytes(...parts));
  }
}

export const streamSha256 = (): StreamSha256 => new GatheredSha256();
