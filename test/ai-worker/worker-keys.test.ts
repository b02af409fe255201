/** WorkerKeys: one refresh per miss, coalesced, rate-limited, never stuck on a failure. */
import { describe, expect, it } from 'vitest';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { expectSealgateError } from '../keys/support.js';
import { kekAt, T } from './support.js';

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

describe('WorkerKeys', () => {
  it('concurrent misses share refreshes: the first starts one, all later ones share one follow-up', async () => {
    const kek = await kekAt();
    let calls = 0;
    const keys = new WorkerKeys({
      minIntervalMs: 0,
      refresher: async (k) => {
        calls++;
        await k.add(kek);
      },
    });
    const results = await Promise.all(Array.from({ length: 5 }, () => keys.get(kek.kid, T)));
    expect(results.every((r) => r.kid === kek.kid)).toBe(true);
    expect(calls).toBe(2);
  });
  it('a miss during a running refresh waits for one that starts after it asked', async () => {
    const kek = await kekAt();
    const first = gate();
    const events: string[] = [];
    let serviceHasKey = false;
    const keys = new WorkerKeys({
      minIntervalMs: 0,
      refresher: async (k) => {
        events.push('refresh started');
        if (events.length === 1) await first.promise; // a poll already under way, before the upload
        if (serviceHasKey) await k.add(kek);
      },
    });
    const poll = keys.refresh();
    serviceHasKey = true; // the gateway uploads and promotes the key, then sends a request under it
    const request = keys.get(kek.kid, T);
    first.open();
    await poll;
    expect((await request).kid).toBe(kek.kid);
    expect(events).toEqual(['refresh started', 'refresh started']);
  });
  it('refreshes start at least minIntervalMs apart', async () => {
    let now = 10_000;
    const slept: number[] = [];
    const keys = new WorkerKeys({
      minIntervalMs: 1000,
      clock: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
      refresher: async () => undefined,
    });
    await keys.refresh();
    now += 200;
    await keys.refresh();
    expect(slept).toEqual([800]);
    expect(keys.refreshes).toBe(2);
  });
  it('a failed refresh answers unknown_key and does not stick', async () => {
    const kek = await kekAt();
    let fail = true;
    const keys = new WorkerKeys({
      minIntervalMs: 0,
      refresher: async (k) => {
        if (fail) throw new Error('service down');
        await k.add(kek);
      },
    });
    await expectSealgateError(keys.get(kek.kid, T), 'unknown_key', 'unknown key id (after refreshing keys)');
    fail = false;
    expect((await keys.get(kek.kid, T)).kid).toBe(kek.kid);
  });
  it('a known key is served without a refresh; an expired one is key_expired without a refresh', async () => {
    const kek = await kekAt();
    const old = await kekAt(T - 7200, T - 10);
    let calls = 0;
    const keys = new WorkerKeys({ minIntervalMs: 0, refresher: async () => void calls++ });
    await keys.add(kek);
    await keys.add(old);
    expect((await keys.get(kek.kid, T)).kid).toBe(kek.kid);
    await expectSealgateError(keys.get(old.kid, T), 'key_expired');
    expect(calls).toBe(0);
    expect(keys.count(T)).toBe(1);
  });
});
