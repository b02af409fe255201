/**
 * The isolate's copy of each metered key's standing (its KeyUsage Durable Object), read on the
 * request path without waiting: a copy older than `STANDING_REFRESH_MS` is refreshed through
 * `waitUntil` and the request goes on with what the isolate has. An answer's tokens are added to
 * the copy at once when it ends, then settled in the object, whose reply (the standing after it,
 * every isolate's answers included) replaces the copy.
 *
 * So an isolate sees its own answers at once and other isolates' within `STANDING_REFRESH_MS` plus
 * one RPC; docs/gateway.md "Limits and budgets" says what this means for how late a key is stopped.
 */
import type { DurableObjectNamespace, DurableObjectStub } from '../cf-types.js';
import type { KeyUsage } from '../durable-objects/key-usage.js';
import { addUsage, currentStanding, type UsageStanding } from './usage-windows.js';

export const STANDING_REFRESH_MS = 5_000;
const MAX_CACHED = 1024;

interface Entry {
  standing: UsageStanding | undefined;
  /** When the copy was last asked for (ms); a refresh in flight counts as fresh. */
  askedAt: number;
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
    entry = { standing: undefined, askedAt: Number.NEGATIVE_INFINITY };
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
        entry.standing = standing;
      });
  }
  return { standing: currentStanding(entry.standing, now), refresh };
}

/** Counts an ended answer's tokens in the copy now; the settlement in the object to run off-path. */
export function settleUsage(
  ns: DurableObjectNamespace<KeyUsage>,
  hash: string,
  tokens: number,
  now: number,
): Promise<unknown> {
  const entry = entryOf(hash);
  entry.standing = addUsage(entry.standing, tokens, now);
  return usageStub(ns, hash)
    .record(tokens)
    .then((standing) => {
      entry.standing = standing;
    });
}
