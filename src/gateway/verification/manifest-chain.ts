/**
 * The manifest history (docs/verifiability.md "Manifest history"): an append-only, hash-chained
 * log of every manifest this gateway has served under. Each entry names its predecessor by hash,
 * so an entry cannot be altered, dropped or reordered without breaking every later link — and a
 * client that kept an old head can check that today's log still extends it.
 *
 *   entry = { seq, manifestDigest, firstServedAt (Unix seconds), prev }
 *   hash(entry) = lower-case hex SHA-256 of the entry's JCS form (RFC 8785)
 *   prev of seq 0 = 64 × "0"; prev of seq n = hash(entry n−1)
 *
 * Pure: the Durable Object that holds it is durable-objects/manifest-log.ts.
 */
import { sha256, toHex } from '../../bytes.js';
import { canonicalJsonBytes } from '../../json/canonical.js';

export const GENESIS_PREV = '0'.repeat(64);

export interface ManifestLogEntry {
  seq: number;
  manifestDigest: string;
  firstServedAt: number;
  prev: string;
}

export async function entryHash(entry: ManifestLogEntry): Promise<string> {
  const { seq, manifestDigest, firstServedAt, prev } = entry;
  return toHex(await sha256(canonicalJsonBytes({ seq, manifestDigest, firstServedAt, prev })));
}

/** The log with `digest` appended when it differs from the last entry's (else the same log). */
export async function appendIfNew(
  log: readonly ManifestLogEntry[],
  digest: string,
  now: number,
): Promise<ManifestLogEntry[]> {
  const last = log.at(-1);
  if (last?.manifestDigest === digest) return [...log];
  const entry: ManifestLogEntry = {
    seq: log.length,
    manifestDigest: digest,
    firstServedAt: now,
    prev: last ? await entryHash(last) : GENESIS_PREV,
  };
  return [...log, entry];
}

export type ChainCheck = { ok: true; head: string | null } | { ok: false; seq: number; reason: string };

/** Every link: sequence numbers 0…n−1, each `prev` the hash of the entry before, digests well-formed. */
export async function verifyManifestLog(log: readonly ManifestLogEntry[]): Promise<ChainCheck> {
  let prev = GENESIS_PREV;
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    if (e.seq !== i) return { ok: false, seq: i, reason: `seq is ${e.seq}, expected ${i}` };
    if (!/^[0-9a-f]{64}$/.test(e.manifestDigest)) return { ok: false, seq: i, reason: 'malformed digest' };
    if (!Number.isSafeInteger(e.firstServedAt))
      return { ok: false, seq: i, reason: 'malformed firstServedAt' };
    if (e.prev !== prev) return { ok: false, seq: i, reason: 'prev is not the hash of the entry before' };
    prev = await entryHash(e);
  }
  return { ok: true, head: log.length ? prev : null };
}
