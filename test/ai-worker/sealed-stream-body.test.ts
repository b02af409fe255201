/**
 * The AI worker's sealed stream body (src/ai-worker/sealed-stream-body.ts): every payload becomes one
 * frame, in order, the end frame last; frames sealed before a model failure still go out and the end
 * frame never does; the read-ahead is bounded; cancelling stops the model. Real sealing, real opening.
 */
import { describe, expect, it } from 'vitest';
import { sealedStreamBody } from '../../src/ai-worker/sealed-stream-body.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { sealRequest } from '../../src/envelope/request.js';
import { createStreamOpener, createStreamSealer } from '../../src/envelope/stream.js';
import { createKek } from '../../src/keys/kek.js';
import { SseParser } from '../../src/model/sse.js';

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

/** Reads the body; opens every frame as the gateway would. */
async function openBody(ctx: RequestContext, body: ReadableStream<Uint8Array>) {
  const opener = createStreamOpener(ctx);
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  let reads = 0;
  let ended = false;
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    reads++;
    for (const e of parser.push(decoder.decode(bytes, { stream: true }))) {
      const c = await opener.open(e.data);
      if (c === null) ended = true;
      else chunks.push(c);
    }
  }
  let truncated = false;
  try {
    await opener.finish();
  } catch {
    truncated = true;
  }
  return { chunks, reads, ended, truncated };
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
    expect(r.chunks).toHaveLength(7);
    expect(r.ended).toBe(false);
    expect(r.truncated).toBe(true);
    expect(failures).toEqual([7]);
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
      maxInFlight: 1,
    });
    await settle();
    // One frame buffered (the bound), at most one more payload taken while it was sealed.
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

  it('the trailer comes once, after the end frame; frames read while it is made are not sent twice', async () => {
    const ctx = await context();
    const { iterator } = payloads(40);
    const seen: string[] = [];
    const body = sealedStreamBody({
      events: iterator,
      sealer: createStreamSealer(ctx),
      onFrame: (frame) => seen.push(frame),
      // Slow on purpose: the reader takes (and clears) the buffered frames while it is made.
      trailer: async () => {
        await settle();
        await settle();
        return `trailer after ${seen.length} frames`;
      },
      onEnd: () => undefined,
      onFailure: () => undefined,
      onCancel: () => undefined,
    });
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const events: string[] = [];
    const reader = body.getReader();
    for (;;) {
      await settle(); // a slow reader: every frame, the end frame too, is buffered when it reads
      const { done, value } = await reader.read();
      if (done) break;
      for (const e of parser.push(decoder.decode(value, { stream: true }))) events.push(e.data);
    }
    // 40 frames and the end frame, each exactly once and in order, then the trailer.
    expect(events.slice(0, -1)).toEqual(seen);
    expect(seen).toHaveLength(41);
    expect(events.at(-1)).toBe('trailer after 41 frames');
  });
});
