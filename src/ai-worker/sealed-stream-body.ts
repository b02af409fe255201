/**
 * The body of a sealed stream answer (docs/protocol.md, sealed streams: format 3, binary records):
 * the model's events sealed a burst per frame, then the end record — read ahead of the transport,
 * but bounded.
 *
 * Why few writes: each network read of this body costs the gateway ~0.05–0.1 ms of CPU before
 * any crypto (docs/gateway.md "What a stream's network reads cost"), each frame an AES-GCM open on
 * top. A producer takes the model's events as they come into a queue; each transport read seals every
 * event queued so far (up to MAX_FRAME_EVENTS events and MAX_FRAME_BYTES per frame,
 * src/envelope/stream.ts) as one frame and writes it. Pacing (the invariants):
 * - the first event goes out alone and at once (time to first chunk; the producer asks the model
 *   for nothing more until that frame is out);
 * - a later write waits until `frameIntervalMs` has passed since the write before it, so events
 *   that come faster than that share a write, and an event after a quiet spell goes at once (plus
 *   one event-loop turn, so the rest of the model server's network read joins it);
 * - the model's end goes at once, with what is queued, the end record and the trailer in one write
 *   (a stream's last words never wait for the interval);
 * - a queue holding a frame's worth (`maxBufferedChars`, MAX_FRAME_EVENTS) goes at once.
 * The model may hand over a burst at once (an array: an upstream's network read,
 * src/model/upstream.ts); it is queued whole, without an asynchronous step per event. The producer
 * pauses when `maxBufferedChars` of events wait unsealed, so a slow gateway still slows the model.
 *
 * Failure: if the model fails mid-stream, the events queued before the failure are still sealed
 * and delivered (each frame is authentic on its own), then the body ends WITHOUT the end frame —
 * with an error frame in its place carrying the failure as the client is to read it (`failure`),
 * or, when a seal itself failed, with nothing: the gateway reports the sealed failure or
 * `stream_truncated`, and no half-answer can pass as a whole one.
 */
import { concatBytes } from '../bytes.js';
import type { SealedErrorContent } from '../envelope/error-response.js';
import { MAX_FRAME_BYTES, MAX_FRAME_EVENTS, type StreamSealer } from '../envelope/stream.js';

export interface SealedStreamBodyOptions {
  /** The model's events, one by one or a burst (an array, in order) at a time. */
  events: AsyncIterator<string | readonly string[]>;
  sealer: StreamSealer;
  /** The end frame was produced (the model finished). */
  onEnd: () => void;
  /** The model or a seal failed after `frames` frames: the body ends without its end frame. */
  onFailure: (error: unknown, frames: number) => void;
  /** What the client is to read of the model's failure: sealed as the stream's error frame. */
  failure?: (error: unknown) => SealedErrorContent;
  /** The reader went away: stop the model. */
  onCancel: () => void;
  /**
   * Each sealed record's bytes as sent, in order, the header with the first and the end record last
   * (the receipt's stream hash covers exactly these).
   */
  onRecord?: (record: Uint8Array) => void;
  /**
   * The receipt trailer record after the end record (docs/protocol.md "Receipts"), made once every
   * record has passed `onRecord`. If it fails, the body ends after the end record without it, and
   * the gateway refuses the answer (`upstream_tampered`).
   */
  trailer?: () => Promise<Uint8Array>;
  /** Event characters waiting unsealed before the producer pauses. Default 64 Ki characters. */
  maxBufferedChars?: number;
  /**
   * The least time between two writes after the first, in ms (default DEFAULT_FRAME_INTERVAL_MS;
   * 0: one event-loop turn only). Events arriving sooner share the next write; the end never waits.
   */
  frameIntervalMs?: number;
  /** The clock and timer of the pacing; default `performance.now()` and `setTimeout`. */
  timer?: FrameTimer;
}

/** A monotonic clock in ms and a cancellable one-shot timer (injectable for tests). */
export interface FrameTimer {
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/**
 * 4 ms: under a display frame (16.7 ms at 60 Hz), so no reader sees the pacing, and above the
 * spread of one model-server write burst over loopback (~1 ms), so a burst is one write.
 */
export const DEFAULT_FRAME_INTERVAL_MS = 4;

const systemTimer: FrameTimer = {
  now: () => performance.now(),
  after: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export function sealedStreamBody(opts: SealedStreamBodyOptions): ReadableStream<Uint8Array> {
  const pump = new SealedStreamPump(opts);
  return new ReadableStream<Uint8Array>(
    {
      start: () => pump.start(),
      pull: (controller) => pump.pull(controller),
      cancel: () => pump.cancel(),
    },
    { highWaterMark: 0 },
  );
}

type ModelEnd = { done: true } | { error: unknown };

/**
 * The producer (the model's events into the queue) and the reader (the queue into frames) of one
 * sealed stream. Invariants: frames are sealed only in `pull`, in queue order; the end frame only
 * once the model finished and the queue is empty; nothing is sealed after a failure or cancel.
 */
class SealedStreamPump {
  readonly #opts: SealedStreamBodyOptions;
  readonly #maxBuffered: number;
  /** Queued characters that make a write due at once (a frame's worth, or the producer paused). */
  readonly #flushChars: number;
  readonly #interval: number;
  readonly #timer: FrameTimer;
  readonly #queue = new EventQueue();
  /** When the last write was handed to the transport (`#timer.now()`). */
  #lastWrite = 0;
  #frames = 0;
  /** The first frame was handed to the transport. */
  #sentFirst = false;
  /** An event was queued (the first one waits for its frame before the producer goes on). */
  #queuedAny = false;
  /** The model finished (`done`) or failed (`error`); what is queued still goes out. */
  #modelEnd: ModelEnd | null = null;
  /** Cancelled by the reader, or the body finished: the producer stops. */
  #stopped = false;
  #wakeReader: (() => void) | null = null;
  #wakeProducer: (() => void) | null = null;

  constructor(opts: SealedStreamBodyOptions) {
    this.#opts = opts;
    this.#maxBuffered = opts.maxBufferedChars ?? 64 * 1024;
    this.#flushChars = Math.min(this.#maxBuffered, Math.floor(MAX_FRAME_BYTES / 3));
    this.#interval = opts.frameIntervalMs ?? DEFAULT_FRAME_INTERVAL_MS;
    this.#timer = opts.timer ?? systemTimer;
  }

  start(): void {
    void this.#produce();
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    await this.#untilQueued();
    // The first chunk goes out at once (time to first chunk); later ones when due.
    if (this.#sentFirst) await this.#untilWriteDue();
    if (this.#stopped) return;
    const { records, finished } = await this.#sealReady();
    if (records.length > 0) {
      // One chunk per read: the transport's cost is per chunk, not per record.
      controller.enqueue(records.length === 1 ? records[0]! : concatBytes(...records));
      this.#sentFirst = true;
      this.#lastWrite = this.#timer.now();
    }
    if (finished) {
      this.#stopped = true; // the producer stops taking the model's events
      this.#wake('producer');
      controller.close();
      return;
    }
    // Room in the queue again, and the first frame is out: the producer may go on (#mayTakeMore).
    this.#wake('producer');
  }

  async cancel(): Promise<void> {
    this.#stopped = true;
    this.#wake('producer');
    this.#wake('reader');
    this.#opts.onCancel();
    await this.#opts.events.return?.(undefined)?.catch(() => undefined);
  }

  /** Takes the model's events into the queue until the model ends or the stream stops. */
  async #produce(): Promise<void> {
    try {
      while (!this.#stopped) {
        while (!this.#stopped && !this.#mayTakeMore()) {
          await new Promise<void>((r) => {
            this.#wakeProducer = r;
          });
        }
        if (this.#stopped) return;
        const next = await this.#opts.events.next();
        if (this.#stopped) return;
        if (next.done) {
          this.#modelEnd = { done: true };
          return this.#wake('reader');
        }
        if (typeof next.value === 'string') this.#queue.push(next.value);
        else for (const event of next.value) this.#queue.push(event);
        this.#queuedAny ||= this.#queue.length > 0;
        this.#wake('reader');
      }
    } catch (e) {
      this.#modelEnd = { error: e };
      this.#wake('reader');
    }
  }

  /**
   * Whether the producer may ask the model for more: not while `maxBuffered` characters wait
   * unsealed (a slow gateway slows the model), nor while the first event waits for its frame —
   * time to first chunk: the model's next events (a whole network read, each JSON-checked in
   * upstream.ts) would otherwise be taken in the microtasks between the first seal's steps.
   */
  #mayTakeMore(): boolean {
    if (this.#queue.chars >= this.#maxBuffered) return false;
    return this.#sentFirst || !this.#queuedAny;
  }

  /** Resolves once an event is queued, the model ended, or the stream stopped. */
  async #untilQueued(): Promise<void> {
    while (!this.#stopped && this.#queue.length === 0 && this.#modelEnd === null) {
      await new Promise<void>((r) => {
        this.#wakeReader = r;
      });
    }
  }

  /**
   * Resolves when the next write is due (the pacing of the header comment): the model ended, the
   * stream stopped, a frame's worth is queued, or `#interval` ms passed since the last write — then,
   * unless the model ended, one event-loop turn, so the rest of the model server's network read
   * (handled back to back) joins the write.
   */
  async #untilWriteDue(): Promise<void> {
    while (!this.#stopped && this.#modelEnd === null && !this.#queueFull()) {
      const wait = this.#lastWrite + this.#interval - this.#timer.now();
      if (wait <= 0) break;
      await this.#wakeOrAfter(wait);
    }
    if (this.#modelEnd === null && !this.#stopped) await nextTurn();
  }

  /** Resolves when the producer wakes the reader or after `ms`, whichever comes first. */
  #wakeOrAfter(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.#timer.after(ms, () => {
        this.#wakeReader = null;
        resolve();
      });
      this.#wakeReader = () => {
        cancel();
        resolve();
      };
    });
  }

  #queueFull(): boolean {
    return this.#queue.chars >= this.#flushChars || this.#queue.length >= MAX_FRAME_EVENTS;
  }

  /**
   * Seals what is queued (and, once the model ended with the queue empty, the end record or the
   * failure): the records to write and whether the body is finished. A failing seal or trailer
   * keeps the records sealed before it and finishes the body without the end record.
   */
  async #sealReady(): Promise<{ records: Uint8Array[]; finished: boolean }> {
    const records: Uint8Array[] = [];
    try {
      await this.#sealQueued(records);
      const ending = this.#modelEnd;
      if (ending === null || this.#queue.length > 0) return { records, finished: false };
      if ('error' in ending) {
        await this.#sealFailure(records, ending.error);
        this.#opts.onFailure(ending.error, this.#frames);
      } else {
        await this.#sealEnd(records);
        this.#opts.onEnd();
      }
    } catch (e) {
      this.#opts.onFailure(e, this.#frames);
    }
    return { records, finished: true };
  }

  /**
   * Seals the events queued now, a frame per MAX_FRAME_EVENTS / MAX_FRAME_BYTES, appending records
   * to `out` frame by frame (so the frames sealed before a failing seal still go out). Events the
   * producer queues during these seals wait for the next read: taking them here would seal them
   * one or two per frame, as each seal's await lets the producer add about one. The first frame
   * carries the first event alone, also when a burst arrived with it (time to first chunk: the
   * gateway opens and releases it before anything else is sealed).
   */
  async #sealQueued(out: Uint8Array[]): Promise<void> {
    let budget = this.#sentFirst ? this.#queue.length : Math.min(1, this.#queue.length);
    while (budget > 0) {
      const batch = this.#queue.take(budget);
      budget -= batch.length;
      const record = await this.#opts.sealer.seal(batch);
      this.#opts.onRecord?.(record);
      out.push(record);
      this.#frames++;
    }
  }

  /** The model's failure as the stream's error frame, in place of the end record (`failure`). */
  async #sealFailure(out: Uint8Array[], error: unknown): Promise<void> {
    if (!this.#opts.failure) return;
    const record = await this.#opts.sealer.fail(this.#opts.failure(error));
    this.#opts.onRecord?.(record);
    this.#frames++;
    out.push(record);
  }

  /** The end record and, if any, the receipt trailer over every record's hash (onRecord saw them). */
  async #sealEnd(out: Uint8Array[]): Promise<void> {
    const end = await this.#opts.sealer.end();
    this.#opts.onRecord?.(end);
    this.#frames++;
    out.push(end);
    if (this.#opts.trailer) out.push(await this.#opts.trailer());
  }

  #wake(which: 'reader' | 'producer'): void {
    const w = which === 'reader' ? this.#wakeReader : this.#wakeProducer;
    if (which === 'reader') this.#wakeReader = null;
    else this.#wakeProducer = null;
    w?.();
  }
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
   * The next frame's events: as many queued events as fit MAX_FRAME_EVENTS and, encoded,
   * MAX_FRAME_BYTES (estimated at 3 UTF-8 bytes per UTF-16 code unit plus the 4-byte length: the
   * worst case, so the sealer's exact check never fails on a batch taken here). A lone event
   * over the cap is taken alone; the sealer refuses it and the stream ends truncated. At most `max`.
   */
  take(max: number): string[] {
    let n = 0;
    let bytes = 0;
    while (n < this.#events.length && n < MAX_FRAME_EVENTS && n < max) {
      const cost = this.#events[n]!.length * 3 + 4;
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
export function nextTurn(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  return new Promise<void>((r) => (g.setImmediate ? g.setImmediate(r) : setTimeout(r, 0)));
}
