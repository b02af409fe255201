/**
 * The AI worker's sealed stream body (src/ai-worker/sealed-stream-body.ts): the payloads ready at
 * each read become one frame, in order, the end frame last; the first payload goes out alone at
 * once; payloads queued before a model failure still go out and the end frame never does; the
 * read-ahead is bounded; cancelling stops the model. Real sealing, real opening.
 */
import { describe, expect, it } from 'vitest';
import { sealedStreamBody } from '../../src/ai-worker/sealed-stream-body.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { sealRequest } from '../../src/envelope/request.js';
import {
  createStreamOpener,
  createStreamSealer,
  MAX_FRAME_BYTES,
  MAX_FRAME_EVENTS,
  receiptRecord,
} from '../../src/envelope/stream.js';
import { createKek } from '../../src/keys/kek.js';

const T = Math.floor(Date.now() / 1000);

async function context(): Promise<RequestContext> {
  const kek = await createKek({ notBefore: T - 60, notAfter: T + 3600 });
  return (
    await sealRequest({ kek, route: '/v1/chat/completions', requestId: 'r-1', body: { model: 'm' }, now: T })
  ).context;
}

/** A model's payload stream that counts how far it was pulled; fails after `failAfter` if given. */
function payloads(n: number, failAfter?: number) {
  const seen = { pulled: 0, returned: false };
  const iterator: AsyncIterator<string> = {
    async next() {
      if (failAfter !== undefined && seen.pulled === failAfter) throw new Error('model broke');
      if (seen.pulled >= n) return { done: true, value: undefined };
      seen.pulled++;
      return { done: false, value: JSON.stringify({ i: seen.pulled }) };
    },
    async return() {
      seen.returned = true;
      return { done: true, value: undefined };
    },
  };
  return { iterator, seen };
}

/** Reads the body; opens every record as the gateway would, read by read. */
async function openBody(ctx: RequestContext, body: ReadableStream<Uint8Array>) {
  const opener = createStreamOpener(ctx);
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  /** Events per data frame, in order. */
  const sizes: number[] = [];
  let reads = 0;
  let ended = false;
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    reads++;
    const progress = await opener.push(bytes, (events) => {
      for (const e of events) chunks.push(decoder.decode(e));
      sizes.push(events.length);
    });
    ended = progress.ended;
  }
  let truncated = false;
  try {
    opener.finish();
  } catch {
    truncated = true;
  }
  return { chunks, sizes, reads, ended, truncated };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('sealedStreamBody', () => {
  it('seals every payload in order, then the end frame', async () => {
    const ctx = await context();
    const { iterator } = payloads(200);
    const calls: string[] = [];
    const body = sealedStreamBody({
      events: iterator,
      sealer: createStreamSealer(ctx),
      onEnd: () => calls.push('end'),
      onFailure: () => calls.push('failure'),
      onCancel: () => calls.push('cancel'),
    });
    const r = await openBody(ctx, body);
    expect(r.chunks).toEqual(Array.from({ length: 200 }, (_, i) => JSON.stringify({ i: i + 1 })));
    expect(r.ended).toBe(true);
    expect(r.truncated).toBe(false);
    expect(calls).toEqual(['end']);
    // The first payload alone, at once (time to first chunk). How many of the rest share a frame
    // depends on the runtime's scheduling: asserted under Node (stream-coalescing.node.test.ts).
    expect(r.sizes[0]).toBe(1);
  });

  it('the model is asked for nothing more until the first frame is sealed (time to first chunk)', async () => {
    const ctx = await context();
    const { iterator, seen } = payloads(20);
    let framesSealed = 0;
    /** Frames sealed when the model was asked for its 2nd, 3rd, … event. */
    const framesAtPull: number[] = [];
    const counting: AsyncIterator<string> = {
      next: () => {
        if (seen.pulled > 0) framesAtPull.push(framesSealed);
        return iterator.next();
      },
      return: () => iterator.return!(),
    };
    const body = sealedStreamBody({
      events: counting,
      sealer: createStreamSealer(ctx),
      onRecord: () => {
        framesSealed++;
      },
      onEnd: () => undefined,
      onFailure: () => undefined,
      onCancel: () => undefined,
    });
    const r = await openBody(ctx, body);
    expect(r.chunks).toHaveLength(20);
    expect(r.sizes[0]).toBe(1);
    expect(framesAtPull.length).toBeGreaterThan(0);
    expect(Math.min(...framesAtPull)).toBeGreaterThanOrEqual(1);
  });

  it('bursts (arrays) are queued whole: the first event alone, the rest in order, a failure after a burst keeps it', async () => {
    const ctx = await context();
    const bursts = (fail: boolean): AsyncIterator<readonly string[]> =>
      (async function* () {
        yield ['a', 'b', 'c', 'd'];
        yield ['e'];
        yield ['f', 'g'];
        if (fail) throw new Error('model broke off');
      })();
    const calls: string[] = [];
    const hooks = {
      onEnd: () => calls.push('end'),
      onFailure: () => calls.push('failure'),
      onCancel: () => calls.push('cancel'),
    };
    const whole = await openBody(
      ctx,
      sealedStreamBody({ events: bursts(false), sealer: createStreamSealer(ctx), ...hooks }),
    );
    expect(whole.chunks).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(whole.sizes[0]).toBe(1);
    expect(whole.ended).toBe(true);
    const cut = await openBody(
      ctx,
      sealedStreamBody({ events: bursts(true), sealer: createStreamSealer(ctx), ...hooks }),
    );
    expect(cut.chunks).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(cut.ended).toBe(false);
    expect(cut.truncated).toBe(true);
    expect(calls).toEqual(['end', 'failure']);
  });

  it('a burst larger than a frame is split at MAX_FRAME_EVENTS and MAX_FRAME_BYTES', async () => {
    const ctx = await context();
    const many = payloads(3 * MAX_FRAME_EVENTS);
    const r1 = await openBody(
      ctx,
      sealedStreamBody({
        events: many.iterator,
        sealer: createStreamSealer(ctx),
        onEnd: () => undefined,
        onFailure: () => undefined,
        onCancel: () => undefined,
        maxBufferedChars: 1 << 30,
      }),
    );
    expect(r1.chunks).toEqual(
      Array.from({ length: 3 * MAX_FRAME_EVENTS }, (_, i) => JSON.stringify({ i: i + 1 })),
    );
    expect(Math.max(...r1.sizes)).toBeLessThanOrEqual(MAX_FRAME_EVENTS);
    // Big events: each frame's plaintext stays under the byte cap (the sealer would refuse it).
    const big = 'x'.repeat(100_000);
    const bigEvents: AsyncIterator<string> = (async function* () {
      for (let i = 0; i < 30; i++) yield big;
    })();
    const r2 = await openBody(
      ctx,
      sealedStreamBody({
        events: bigEvents,
        sealer: createStreamSealer(ctx),
        onEnd: () => undefined,
        onFailure: () => undefined,
        onCancel: () => undefined,
        maxBufferedChars: 1 << 30,
      }),
    );
    expect(r2.ended).toBe(true);
    expect(r2.chunks).toHaveLength(30);
    expect(Math.max(...r2.sizes) * (big.length + 3)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  });

  it('one event over MAX_FRAME_BYTES: the frames before it go out, then no end frame', async () => {
    const ctx = await context();
    const events: AsyncIterator<string> = (async function* () {
      yield 'a';
      yield 'x'.repeat(MAX_FRAME_BYTES);
      yield 'never';
    })();
    const failures: string[] = [];
    const r = await openBody(
      ctx,
      sealedStreamBody({
        events,
        sealer: createStreamSealer(ctx),
        onEnd: () => failures.push('end'),
        onFailure: (e) => failures.push((e as Error).message),
        onCancel: () => undefined,
      }),
    );
    expect(r.chunks).toEqual(['a']);
    expect(r.ended).toBe(false);
    expect(r.truncated).toBe(true);
    expect(failures).toEqual([`stream sealer: a frame carries at most ${MAX_FRAME_BYTES} bytes`]);
  });

  it('a model failure: the frames sealed before it go out, the end frame never does', async () => {
    const ctx = await context();
    const { iterator } = payloads(50, 7);
    const failures: number[] = [];
    const body = sealedStreamBody({
      events: iterator,
      sealer: createStreamSealer(ctx),
      onEnd: () => failures.push(-1),
      onFailure: (_e, frames) => failures.push(frames),
      onCancel: () => undefined,
    });
    const r = await openBody(ctx, body);
    expect(r.chunks).toEqual(Array.from({ length: 7 }, (_, i) => JSON.stringify({ i: i + 1 })));
    expect(r.ended).toBe(false);
    expect(r.truncated).toBe(true);
    expect(failures).toEqual([r.sizes.length]);
  });

  it('reads ahead only so far while nobody reads, and cancelling stops the model', async () => {
    const ctx = await context();
    const { iterator, seen } = payloads(1_000_000);
    let cancelled = false;
    const body = sealedStreamBody({
      events: iterator,
      sealer: createStreamSealer(ctx),
      onEnd: () => undefined,
      onFailure: () => undefined,
      onCancel: () => {
        cancelled = true;
      },
      maxBufferedChars: 1,
    });
    await settle();
    // One payload queued (the bound) before anyone reads.
    expect(seen.pulled).toBeLessThanOrEqual(2);
    const reader = body.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await settle();
    expect(seen.pulled).toBeLessThanOrEqual(4);
    await reader.cancel();
    expect(cancelled).toBe(true);
    expect(seen.returned).toBe(true);
  });

  it('the trailer comes once, after the end record; records read while it is made are not sent twice', async () => {
    const ctx = await context();
    const { iterator } = payloads(40);
    const seen: Uint8Array[] = [];
    const body = sealedStreamBody({
      events: iterator,
      sealer: createStreamSealer(ctx),
      onRecord: (record) => seen.push(record),
      // Slow on purpose: the reader takes (and clears) the buffered records while it is made.
      trailer: async () => {
        await settle();
        await settle();
        return receiptRecord(`trailer.after.${seen.length}`);
      },
      onEnd: () => undefined,
      onFailure: () => undefined,
      onCancel: () => undefined,
    });
    const received: Uint8Array[] = [];
    const reader = body.getReader();
    for (;;) {
      await settle(); // a slow reader: every record, the end record too, is buffered when it reads
      const { done, value } = await reader.read();
      if (done) break;
      received.push(value);
    }
    // Every record, the end record last, each exactly once and in order, then the trailer.
    const all = Buffer.concat(received);
    const records = Buffer.concat(seen);
    expect(all.subarray(0, records.length).equals(records)).toBe(true);
    expect(seen.at(-1)![0]).toBe(1);
    expect(all.subarray(records.length).equals(receiptRecord(`trailer.after.${seen.length}`))).toBe(true);
    const opener = createStreamOpener(ctx, { trailer: true });
    const opened: string[] = [];
    const progress = await opener.push(all, (events) =>
      opened.push(...events.map((e) => Buffer.from(e).toString())),
    );
    opener.finish();
    expect(progress.trailer).toBe(`trailer.after.${seen.length}`);
    expect(opened).toHaveLength(40);
  });

  it('pacing: events sooner than frameIntervalMs after a write share the next one; a quiet spell and the end do not wait', async () => {
    const { clock, model, writes } = await pacedStream({ frameIntervalMs: 4 });
    model.push('a'); // t=0: the first event goes out alone, at once
    await settle();
    expect(writes.events).toEqual([['a']]);
    clock.advance(1);
    model.push('b');
    clock.advance(1);
    model.push('c');
    await settle();
    expect(writes.events).toHaveLength(1); // t=2: the next write is due at t=4
    clock.advance(2);
    await settle();
    expect(writes.events).toEqual([['a'], ['b', 'c']]);
    clock.advance(16); // t=20, a quiet spell: the next event goes at once
    model.push('d');
    await settle();
    expect(writes.events).toEqual([['a'], ['b', 'c'], ['d']]);
    clock.advance(1);
    model.push('e');
    model.end(); // t=21: the model's end does not wait for t=24
    await settle();
    expect(writes.events).toEqual([['a'], ['b', 'c'], ['d'], ['e']]);
    expect(await writes.ended).toBe(true);
    expect(clock.pending()).toBe(0); // no timer left behind
  });

  it("pacing: a frame's worth of queued characters goes out at once, within the interval", async () => {
    const { model, writes } = await pacedStream({ frameIntervalMs: 1_000, maxBufferedChars: 100 });
    model.push('first');
    await settle();
    model.push('x'.repeat(60));
    await settle();
    expect(writes.events).toHaveLength(1); // 60 of 100 characters: waits for the interval
    model.push('y'.repeat(40));
    await settle();
    expect(writes.events).toEqual([['first'], ['x'.repeat(60), 'y'.repeat(40)]]); // no clock moved
    model.end();
    expect(await writes.ended).toBe(true);
  });
});

/** A sealed stream body of pushed events on a manual clock, read write by write. */
async function pacedStream(opts: { frameIntervalMs: number; maxBufferedChars?: number }) {
  const ctx = await context();
  const clock = manualTimer();
  const model = pushedEvents();
  const body = sealedStreamBody({
    events: model.iterator,
    sealer: createStreamSealer(ctx),
    onEnd: () => undefined,
    onFailure: () => undefined,
    onCancel: () => undefined,
    timer: clock,
    ...opts,
  });
  return { clock, model, writes: readWrites(ctx, body) };
}

/** A clock that moves only when told, and timers that fire when it passes them. */
function manualTimer() {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  return {
    now: () => now,
    after(ms: number, fn: () => void) {
      const t = { at: now + ms, fn };
      timers.add(t);
      return () => timers.delete(t);
    },
    advance(ms: number) {
      now += ms;
      for (const t of [...timers]) {
        if (t.at > now) continue;
        timers.delete(t);
        t.fn();
      }
    },
    pending: () => timers.size,
  };
}

/** A model whose events the test pushes one at a time, then ends. */
function pushedEvents() {
  const waiting: ((r: IteratorResult<string>) => void)[] = [];
  const ready: IteratorResult<string>[] = [];
  const give = (r: IteratorResult<string>) => {
    const w = waiting.shift();
    if (w) w(r);
    else ready.push(r);
  };
  const iterator: AsyncIterator<string> = {
    next: () => {
      const r = ready.shift();
      return r ? Promise.resolve(r) : new Promise((resolve) => waiting.push(resolve));
    },
  };
  return {
    iterator,
    push: (event: string) => give({ done: false, value: event }),
    end: () => give({ done: true, value: undefined }),
  };
}

/** Reads the body write by write, opening each: the events each write carried, and whether it ended. */
function readWrites(ctx: RequestContext, body: ReadableStream<Uint8Array>) {
  const opener = createStreamOpener(ctx);
  const decoder = new TextDecoder();
  const events: string[][] = [];
  const ended = (async () => {
    let last = false;
    for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
      const write: string[] = [];
      const progress = await opener.push(bytes, (batch) => {
        for (const e of batch) write.push(decoder.decode(e));
      });
      if (write.length > 0) events.push(write);
      last = progress.ended;
    }
    return last;
  })();
  return { events, ended };
}
