/**
 * A burst of the model's events goes out as a few writes, not one per frame, also with the AI
 * worker's synchronous sealing (node:crypto): there no seal stays in flight to hold a write back,
 * so the body waits one event-loop turn before each write after the first (sealed-stream-body.ts).
 * Found by `npm run bench`: with one write per frame, every frame crossed each hop on its own and
 * sealed streams fell from 1.22× to 0.84× of plaintext throughput.
 */
import { describe, expect, it } from 'vitest';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { sealedStreamBody } from '../../src/ai-worker/sealed-stream-body.js';
import { sealRequest } from '../../src/envelope/request.js';
import { createStreamOpener, createStreamSealer, MAX_FRAME_EVENTS } from '../../src/envelope/stream.js';
import { createKek } from '../../src/keys/kek.js';

const T = Math.floor(Date.now() / 1000);

describe('sealed stream writes (Node backend)', () => {
  it('200 events the model has ready go out, all opened in order, in a handful of writes', async () => {
    const kek = await createKek({ notBefore: T - 60, notAfter: T + 3600 });
    const { context } = await sealRequest({
      kek,
      route: '/v1/chat/completions',
      requestId: 'r-1',
      body: { model: 'm' },
      now: T,
      envelopeCrypto: nodeEnvelopeCrypto,
    });
    // 200 events that all arrive in one turn of the event loop but each in its own callback, as the
    // model server's small writes reach the worker as separate network reads handled back to back.
    const arrivals = Array.from(
      { length: 200 },
      (_, k) =>
        new Promise<IteratorResult<string>>((r) =>
          setTimeout(() => r({ done: false, value: String(k + 1) }), 0),
        ),
    );
    let i = 0;
    const events: AsyncIterator<string> = {
      next: () => arrivals[i++] ?? Promise.resolve({ done: true, value: undefined }),
    };
    const body = sealedStreamBody({
      events,
      sealer: createStreamSealer(context),
      onEnd: () => undefined,
      onFailure: () => undefined,
      onCancel: () => undefined,
    });
    const opener = createStreamOpener(context);
    const decoder = new TextDecoder();
    const chunks: string[] = [];
    const sizes: number[] = [];
    let writes = 0;
    for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
      writes++;
      await opener.push(bytes, (events) => {
        chunks.push(...events.map((e) => decoder.decode(e)));
        sizes.push(events.length);
      });
    }
    opener.finish();
    expect(chunks).toEqual(Array.from({ length: 200 }, (_, k) => String(k + 1)));
    // The first frame at once (time to first chunk), then the rest in bursts bounded by flushChars.
    expect(writes).toBeLessThanOrEqual(10);
    // And in few frames: the first event alone (time to first chunk), then a burst per frame.
    expect(sizes[0]).toBe(1);
    expect(sizes.length).toBeLessThanOrEqual(10);
  });
  it('a burst over MAX_FRAME_EVENTS is split at the cap, frames full', async () => {
    const kek = await createKek({ notBefore: T - 60, notAfter: T + 3600 });
    const { context } = await sealRequest({
      kek,
      route: '/v1/chat/completions',
      requestId: 'r-2',
      body: { model: 'm' },
      now: T,
      envelopeCrypto: nodeEnvelopeCrypto,
    });
    const n = 3 * MAX_FRAME_EVENTS;
    let k = 0;
    const events: AsyncIterator<string> = {
      next: async () => (k < n ? { done: false, value: String(++k) } : { done: true, value: undefined }),
    };
    const body = sealedStreamBody({
      events,
      sealer: createStreamSealer(context),
      onEnd: () => undefined,
      onFailure: () => undefined,
      onCancel: () => undefined,
      maxBufferedChars: 1 << 30,
    });
    const opener = createStreamOpener(context);
    const decoder = new TextDecoder();
    const sizes: number[] = [];
    const chunks: string[] = [];
    for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
      await opener.push(bytes, (opened) => {
        sizes.push(opened.length);
        chunks.push(...opened.map((e) => decoder.decode(e)));
      });
    }
    opener.finish();
    expect(chunks).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));
    expect(Math.max(...sizes)).toBe(MAX_FRAME_EVENTS);
  });
});
