/**
 * The gateway's batched SHA-256 state (src/gateway/sealing/native-sha256.ts) gives the digest of
 * the concatenation of its updates, whatever their sizes and however they fall on the batch
 * boundary, and copies what it batches (a caller reuses its length-prefix buffer). So does the
 * stream receipt's hash (`streamSha256`), gathered for one digest up to GATHER_BYTES and
 * incremental past it, whichever side of that bound the updates fall; it refuses use after digest.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, sha256, toHex } from '../../src/bytes.js';
import {
  BATCH_BYTES,
  GATHER_BYTES,
  nativeSha256,
  streamSha256,
} from '../../src/gateway/sealing/native-sha256.js';
import { createStreamHash } from '../../src/receipts/receipt.js';

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Either state: the batched one (sync digest) or the stream's gathered one (async digest). */
interface State {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array | Promise<Uint8Array>;
}

/** Feeds `parts` to a fresh state: its digest must be one-shot SHA-256 of their concatenation. */
async function expectDigestOf(make: () => State, parts: Uint8Array[], label: string): Promise<void> {
  const h = make();
  for (const p of parts) h.update(p);
  expect(toHex(await h.digest()), label).toBe(toHex(await sha256(concatBytes(...parts))));
}

/** Feeds ONE buffer, rewritten by `fill` before each update: the digest is of what it held then. */
async function expectCopies(make: () => State, size: number, fill: (b: Uint8Array, i: number) => void) {
  const reused = new Uint8Array(size);
  const h = make();
  const expected: Uint8Array[] = [];
  for (let i = 0; i < 50; i++) {
    fill(reused, i);
    h.update(reused);
    expected.push(reused.slice());
  }
  expect(toHex(await h.digest())).toBe(toHex(await sha256(concatBytes(...expected))));
}

describe('batched native SHA-256', () => {
  it('equals one-shot SHA-256 of the concatenation for every split', async () => {
    const sizes = [
      [],
      [0],
      [1, 2, 3],
      [BATCH_BYTES],
      [BATCH_BYTES - 1, 1],
      [BATCH_BYTES - 1, 2],
      [5, BATCH_BYTES + 7, 3],
      [3 * BATCH_BYTES + 1],
      Array.from({ length: 300 }, (_, i) => (i * 97) % 700),
    ];
    for (const split of sizes) {
      await expectDigestOf(
        nativeSha256,
        split.map((n, i) => bytes(n, i)),
        `split ${split.slice(0, 5)}`,
      );
    }
  });

  it('copies what it batches: reusing the caller’s buffer does not change the digest', async () => {
    await expectCopies(nativeSha256, 4, (b, i) => new DataView(b.buffer).setUint32(0, i * 1000 + 7, false));
  });

  it('gives the stream hash that noble gives (the worker’s side), however the reads are split', () => {
    const reads = Array.from({ length: 120 }, (_, i) => new Uint8Array((i * 53) % 900).fill(i));
    const ours = createStreamHash(nativeSha256);
    const reference = createStreamHash();
    for (const r of reads) ours.update(r);
    reference.update(concatBytes(...reads));
    expect(ours.digest()).toBe(reference.digest());
  });
});

describe('the stream receipt hash (gathered, then incremental)', () => {
  it('equals one-shot SHA-256 of the concatenation on both sides of GATHER_BYTES', async () => {
    const splits = [
      [],
      [1],
      [300, 16_000],
      [GATHER_BYTES],
      [GATHER_BYTES, 1],
      [GATHER_BYTES - 1, 2, 5],
      [10, GATHER_BYTES + 7, 3],
      Array.from({ length: 200 }, (_, i) => (i * 977) % 1500),
    ];
    for (const split of splits) {
      await expectDigestOf(
        streamSha256,
        split.map((n, i) => bytes(n, i + 1)),
        `split ${split.slice(0, 5)}`,
      );
    }
  });

  it('copies what it gathers: a caller reusing its buffer does not change the digest', async () => {
    await expectCopies(streamSha256, 64, (b, i) => b.fill(i));
  });

  it('gives the worker’s stream hash (noble) and refuses bytes after its digest', async () => {
    const reads = [bytes(36, 1), bytes(290, 2), bytes(15_900, 3)];
    const reference = createStreamHash();
    for (const r of reads) reference.update(r);
    const h = streamSha256();
    for (const r of reads) h.update(r);
    expect(toHex(await h.digest())).toBe(reference.digest());
    expect(() => h.update(bytes(1, 4))).toThrow('already finished');
    await expect(h.digest()).rejects.toThrow('already finished');
  });
});
