/**
 * The isolate's copy of a key's standing (src/gateway/limits/standing-cache.ts) against a counting
 * stand-in for the KeyUsage namespace: answers settle in one batched `record` per key, the copy
 * counts them at once, a failed flush is retried with the next one, and a refresh runs at most
 * every STANDING_REFRESH_MS.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DurableObjectNamespace } from '../../src/gateway/cf-types.js';
import type { KeyUsage } from '../../src/gateway/durable-objects/key-usage.js';
import {
  resetStandingCache,
  SETTLE_BATCH_MS,
  STANDING_REFRESH_MS,
  settleUsage,
  standingOf,
} from '../../src/gateway/limits/standing-cache.js';
import {
  addUsage,
  currentStanding,
  MAX_TOKENS_PER_RECORD,
  type UsageStanding,
} from '../../src/gateway/limits/usage-windows.js';

/** One object per name, as the KeyUsage class counts; `fail` makes the next record throw. */
function fakeNamespace() {
  const stored = new Map<string, UsageStanding>();
  const calls = { record: [] as number[], standing: 0, fail: false };
  const ns = {
    idFromName: (name: string) => name,
    get: (id: unknown) => ({
      record: async (tokens: number) => {
        calls.record.push(tokens);
        if (tokens > MAX_TOKENS_PER_RECORD) throw new RangeError('bad token count'); // as KeyUsage
        if (calls.fail) {
          calls.fail = false;
          throw new Error('object unreachable');
        }
        const next = addUsage(stored.get(id as string), tokens, Date.now());
        stored.set(id as string, next);
        return next;
      },
      standing: async () => {
        calls.standing += 1;
        return currentStanding(stored.get(id as string), Date.now());
      },
    }),
  } as unknown as DurableObjectNamespace<KeyUsage>;
  return { ns, calls, stored };
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 11, 7, 12, 0, 0) });
  resetStandingCache();
});
afterEach(() => vi.useRealTimers());

describe('settleUsage', () => {
  it('counts answers in the copy at once and records them in one batch per key', async () => {
    const { ns, calls, stored } = fakeNamespace();
    const flush = settleUsage(ns, 'k', 10, Date.now());
    expect(flush).not.toBeNull();
    expect(settleUsage(ns, 'k', 5, Date.now())).toBeNull(); // the scheduled flush takes it
    expect(settleUsage(ns, 'k', 0, Date.now())).toBeNull(); // nothing to settle
    expect(standingOf(ns, 'k', Date.now()).standing.minuteTokens).toBe(15);
    expect(calls.record).toEqual([]);
    await vi.advanceTimersByTimeAsync(SETTLE_BATCH_MS);
    await flush;
    expect(calls.record).toEqual([15]);
    expect(stored.get('k')?.dayTokens).toBe(15);
  });

  it('keeps a batch whose flush failed and records it with the next', async () => {
    const { ns, calls } = fakeNamespace();
    calls.fail = true;
    const first = settleUsage(ns, 'k', 7, Date.now())!.catch((e: Error) => e.message);
    await vi.advanceTimersByTimeAsync(SETTLE_BATCH_MS);
    expect(await first).toBe('object unreachable');
    const second = settleUsage(ns, 'k', 3, Date.now());
    await vi.advanceTimersByTimeAsync(SETTLE_BATCH_MS);
    await second;
    expect(calls.record).toEqual([7, 10]);
  });

  it('caps a batch at what the object takes, so an absurd count cannot block every later flush', async () => {
    const { ns, calls, stored } = fakeNamespace();
    const flush = settleUsage(ns, 'k', 2 ** 40, Date.now()); // a model server's absurd usage
    await vi.advanceTimersByTimeAsync(SETTLE_BATCH_MS);
    await flush;
    expect(calls.record).toEqual([MAX_TOKENS_PER_RECORD]);
    expect(stored.get('k')?.dayTokens).toBe(MAX_TOKENS_PER_RECORD); // the key is over everywhere
  });
});

describe('standingOf', () => {
  it('asks the object at most every STANDING_REFRESH_MS and never makes the caller wait', async () => {
    const { ns, calls, stored } = fakeNamespace();
    stored.set('k', addUsage(undefined, 99, Date.now()));
    const first = standingOf(ns, 'k', Date.now());
    expect(first.standing.minuteTokens).toBe(0); // what the isolate knew: nothing yet
    await first.refresh;
    expect(standingOf(ns, 'k', Date.now())).toMatchObject({ standing: { minuteTokens: 99 }, refresh: null });
    expect(calls.standing).toBe(1);
    vi.advanceTimersByTime(STANDING_REFRESH_MS);
    expect(standingOf(ns, 'k', Date.now()).refresh).not.toBeNull();
  });
});
