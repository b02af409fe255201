/**
 * The body of a sealed SSE answer (docs/protocol.md, sealed streams): the model's events sealed a
 * burst per frame, then the end frame — read ahead of the transport, but bounded.
 *
 * Why a burst per frame: a model (or model server) hands over its events in bursts, and each frame
 * costs the gateway a parse, a base64url decode and an AES-GCM open (~80 µs under load,
 * docs/benchmarks.md "profile steps"). A producer takes the model's events as they come into a
 * queue; each transport read seals every event queued so far (up to MAX_FRAME_EVENTS events and
 * MAX_FRAME_BYTES per frame, src/envelope/stream.ts) as one frame and writes it. Latency: no frame
 * waits for events that have not arrived — the first read seals the first event at once (time to
 * first chunk), later reads wait one event-loop turn only, so that the rest of one network read of
 * the model server's events (handled back to back) joins the same frame. The model may hand over
 * a burst at once (an array: an upstream's network read, src/model/upstream.ts); it is queued
 * whole, without an asynchronous step per event. The producer pauses when
 * `maxBufferedChars` of events wait unsealed, so a slow gateway still slows the model.
 *
 * Failure: if the model fails mid-stream, the events queued before the failure are still sealed
 * and delivered (each frame is authentic on its own), then the body ends WITHOUT the end frame:
 * the gateway reports `stream_truncated`, and no half-answer can pass as a whole one.
 */
import { utf8 } from '../bytes.js';
import { MAX_FRAME_BYTES, MAX_FRAME_EVENTS, type StreamSealer } from '../envelope/stream.js';
import { encodeSseEvent } from '../model/sse.js';

export interface SealedStreamBodyOptions {
  /** The model's events, one by one or a burst (an array, in order) at a time. */
  events: AsyncIterator<string | readonly string[]>;
  sealer: StreamSealer;
  /** The end frame was produced (the model finished). */
  onEnd: () => void;
  /** The model or a seal failed after `frames` frames: the body ends without its end frame. */
  onFailure: (error: unknown, frames: number) => void;
  /** The reader went away: stop the model. */
  onCancel: () => void;
  /** Each sealed frame's SSE data, in sequence order, the end frame last (the receipt's frame hash). */
  onFrame?: (frame: string) => void;
  /**
   * SSE data of one more event after the end frame (the receipt trailer, docs/protocol.md
   * "Receipts"), made once every frame has passed `onFrame`. If it fails, the body ends after the
   * end frame without it, and the gateway refuses the answer (`upstream_tampered`).
   */
  trailer?: () => Promise<string>;
  /** Event characters waiting unsealed before the producer pauses. Default 64 Ki characters. */
  maxBufferedChars?: number;
}

export function sealedStreamBody(opts: SealedStreamBodyOptions): ReadableStream<Uint8Array> {
  const maxBuffered = opts.maxBufferedChars ?? 64 * 1024;
  const queue = new EventQueue();
  let frames = 0;
  let sentFirst = false;
  /** The model finished (`done`) or failed (`error`); what is queued still goes out. */
  let modelEnd: { done: true } | { error: unknown } | null = null;
  /** Cancelled by the reader, or the body finished: the producer stops. */
  let cancelled = false;
  let wakeReader: (() => void) | null = null;
  let wakeProducer: (() => void) | null = null;
  const wake = (which: 'reader' | 'producer') => {
    const w = which === 'reader' ? wakeReader : wakeProducer;
    if (which === 'reader') wakeReader = null;
    else wakeProducer = null;
    w?.();
  };

  const produce = async () => {
    try {
      while (!cancelled) {
        while (!cancelled && queue.chars >= maxBuffered) {
          await new Promise<void>((r) => {
            wakeProducer = r;
          });
        }
        if (cancelled) return;
        const next = await opts.events.next();
        if (cancelled) return;
        if (next.done) {
          modelEnd = { done: true };
          return wake('reader');
        }
        if (typeof next.value === 'string') queue.push(next.value);
        else for (const event of next.value) queue.push(event);
        wake('reader');
      }
    } catch (e) {
      modelEnd = { error: e };
      wake('reader');
    }
  };

  /**
   * Seals the events queued now, a frame per MAX_FRAME_EVENTS / MAX_FRAME_BYTES, appending SSE text
   * to `out` frame by frame (so the frames sealed before a failing seal still go out). Events the
   * producer queues during these seals wait for the next read: taking them here would seal them
   * one or two per frame, as each seal's await lets the producer add about one. The first frame
   * carries the first event alone, also when a burst arrived with it (time to first chunk: the
   * gateway opens and releases it before anything else is sealed).
   */
  const sealQueued = async (out: { text: string }): Promise<void> => {
    let budget = sentFirst ? queue.length : Math.min(1, queue.length);
    while (budget > 0) {
      const batch = queue.take(budget);
      budget -= batch.length;
      const frame = await opts.sealer.seal(batch);
      opts.onFrame?.(frame);
      out.text += encodeSseEvent(frame);
      frames++;
    }
  };

  /** The end frame and, if any, the receipt trailer over every frame's hash (onFrame saw them). */
  const sealEnd = async (): Promise<string> => {
    const end = await opts.sealer.end();
    opts.onFrame?.(end);
    frames++;
    let text = encodeSseEvent(end);
    if (opts.trailer) text += encodeSseEvent(await opts.trailer());
    return text;
  };

  return new ReadableStream<Uint8Array>(
    {
      start() {
        void produce();
      },
      async pull(controller) {
        while (!cancelled && queue.length === 0 && modelEnd === null) {
          await new Promise<void>((r) => {
            wakeReader = r;
          });
        }
        // After the first chunk (which goes out at once: time to first chunk), one turn of the
        // event loop lets the rest of the model server's read be queued, so a burst is one frame.
        if (sentFirst && modelEnd === null) await nextTurn();
        if (cancelled) return;
        const out = { text: '' };
        let finished = false;
        try {
          await sealQueued(out);
          wake('producer');
          const ending: { done: true } | { error: unknown } | null = modelEnd;
          if (ending !== null && queue.length === 0) {
            finished = true;
            if ('error' in ending) opts.onFailure(ending.error, frames);
            else {
              // Not `out.text += await …`: that would read `out.text` before the await.
              const end = await sealEnd();
              out.text += end;
              opts.onEnd();
            }
          }
        } catch (e) {
          // A seal or the trailer failed: what was sealed before goes out, without the end frame.
          finished = true;
          opts.onFailure(e, frames);
        }
        if (out.text !== '') {
          controller.enqueue(utf8.encode(out.text));
          sentFirst = true;
        }
        if (finished) {
          cancelled = true; // the producer stops taking the model's events
          wake('producer');
          controller.close();
        }
      },
      async cancel() {
        cancelled = true;
        wake('producer');
        wake('reader');
        opts.onCancel();
        await opts.events.return?.(undefined)?.catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The model's events waiting to be sealed, taken a frame's worth at a time. */
class EventQueue {
  #events: string[] = [];
  /** Characters queued (UTF-16 code units): the producer's back-pressure measure. */
  chars = 0;

  get length(): number {
    return this.#events.length;
  }

  push(event: string): void {
    this.#events.push(event);
    this.chars += event.length;
  }

  /**
   * The next frame's events: as many queued events as fit MAX_FRAME_EVENTS and, JSON-encoded,
   * MAX_FRAME_BYTES (estimated at 6 bytes per character plus quotes and commas: the worst case of
   * JSON escaping, so the sealer's exact check never fails on a batch taken here). A lone event
   * over the cap is taken alone; the sealer refuses it and the stream ends truncated. At most `max`.
   */
  take(max: number): string[] {
    let n = 0;
    let bytes = 2;
    while (n < this.#events.length && n < MAX_FRAME_EVENTS && n < max) {
      const cost = this.#events[n]!.length * 6 + 3;
      if (n > 0 && bytes + cost > MAX_FRAME_BYTES) break;
      bytes += cost;
      n++;
    }
    const batch = this.#events.splice(0, n);
    for (const e of batch) this.chars -= e.length;
    return batch;
  }
}

/** One turn of the event loop: after the I/O callbacks and microtasks now due (setImmediate in Node). */
function nextTurn(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  return new Promise<void>((r) => (g.setImmediate ? g.setImmediate(r) : setTimeout(r, 0)));
}
