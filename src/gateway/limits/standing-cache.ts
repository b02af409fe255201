/**
 * The isolate's copy of each metered key's standing (its KeyUsage Durable Object), read on the
 * request path without waiting: a copy older than `STANDING_REFRESH_MS` is refreshed through
 * `waitUntil` and the request goes on with what the isolate has. An answer's tokens are added to
 * the copy at once when it ends, and settled in the object in batches: the first unsettled answer
 * starts a flush `SETTLE_BATCH_MS` later that takes every answer ended until then, so a key's object
 * gets at most one `record` per isolate per batch, however busy the key (one object serializes all
 * of a key's settlements: one call per answer would cap a key's rate at what one object can take,
 * and cost a Durable Object request per answer). The object's reply (every isolate's answers
 * included), plus what this isolate has not settled yet, replaces the copy.
 *
 * So an isolate sees its own answers at once and other isolates' within `STANDING_REFRESH_MS` plus
 * `SETTLE_BATCH_MS` plus one RPC; docs/gateway.md "Limits and budgets" says what this means for how
 * late a key is stopped.
 */
import type { DurableObjectNamespace, DurableObjectStub } from '../cf-types.js';
import { nowMs } from '../clock.js';
import type { KeyUsage } from '../durable-objects/key-usage.js';
import { addUsage, currentStanding, MAX_TOKENS_PER_RECORD, type UsageStanding } from './usage-windows.js';

export const STANDING_REFRESH_MS = 5_000;
export const SETTLE_BATCH_MS = 1_000;
const MAX_CACHED = 1024;

interface Entry {
  standing: UsageStanding | undefined;
  /** When the copy was last asked for (ms); a refresh in flight counts as fresh. */
  askedAt: number;
  /** Tokens counted in the copy and not yet recorded in the object. */
  unsettled: number;
  /** A flush is scheduled: it will take `unsettled`. */
  flushing: boolean;
}

const cache = new Map<string, Entry>();

/** For tests: forget every copy. */
export function resetStandingCache(): void {
  cache.clear();
}

function usageStub(ns: DurableObjectNamespace<KeyUsage>, hash: string): DurableObjectStub<KeyUsage> {
  return ns.get(ns.idFromName(hash));
}

function entryOf(hash: string): Entry {
  let entry = cache.get(hash);
  if (!entry) {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    entry = { standing: undefined, askedAt: Number.NEGATIVE_INFINITY, unsettled: 0, flushing: false };
    cache.set(hash, entry);
  }
  return entry;
}

/**
 * The key's standing as this isolate knows it at `now` (all zero before the first reply), and the
 * refresh to run off the request path when the copy is stale (else null).
 */
export function standingOf(
  ns: DurableObjectNamespace<KeyUsage>,
  hash: string,
  now: number,
): { standing: UsageStanding; refresh: Promise<unknown> | null } {
  const entry = entryOf(hash);
  let refresh: Promise<unknown> | null = null;
  if (now - entry.askedAt >= STANDING_REFRESH_MS) {
    entry.askedAt = now;
    refresh = usageStub(ns, hash)
      .standing()
      .then((standing) => {
        entry.standing = addUsage(standing, entry.unsettled, nowMs());
      });
  }
  return { standing: currentStanding(entry.standing, now), refresh };
}

/**
 * Counts an ended answer's tokens in the copy now; returns the flush to run off the request path,
 * or null when a flush already scheduled will take them (or there is nothing to settle).
 */
export function settleUsage(
  ns: DurableObjectNamespace<KeyUsage>,
  hash: string,
  tokens: number,
  now: number,
): Promise<unknown> | null {
  if (tokens <= 0) return null;
  const entry = entryOf(hash);
  entry.standing = addUsage(entry.standing, tokens, now);
  entry.unsettled += tokens;
  if (entry.flushing) return null;
  entry.flushing = true;
  return sleep(SETTLE_BATCH_MS).then(() => flush(ns, hash, entry));
}

async function flush(ns: DurableObjectNamespace<KeyUsage>, hash: string, entry: Entry): Promise<void> {
  // Capped at what the object takes: an uncapped batch over it would be refused, kept and sent
  // again by every later flush, so none of this isolate's answers would ever reach the object.
  const batch = Math.min(entry.unsettled, MAX_TOKENS_PER_RECORD);
  entry.unsettled -= batch;
  entry.flushing = false;
  try {
    const standing = await usageStub(ns, hash).record(batch);
    entry.standing = addUsage(standing, entry.unsettled, nowMs());
  } catch (e) {
    entry.unsettled += batch; // counted in the copy still; the next answer's flush takes it again
    throw e;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
