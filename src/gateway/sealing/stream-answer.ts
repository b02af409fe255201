/**
 * Opens a sealed SSE stream as the client reads it (docs/protocol.md, sealed streams). Each round
 * takes ONE read of the worker's body (not one frame), opens every frame completed in it, in order
 * (each frame carries a burst of the model's events: envelope/stream.ts), and hands the client
 * their events, each its own SSE event, as one chunk, so per-chunk costs downstream (the runtime's
 * stream plumbing, a proxy, the socket) are paid per network read, not per frame. Invariants: only
 * frames whose tag verified are released, strictly in order, and nothing after the first failure;
 * OpenAI's `[DONE]` goes out only after the end frame (and, when expected, the receipt trailer)
 * verified, so a cut stream never looks complete — it ends with an OpenAI error event instead.
 *
 * The events are pushed into workerd's native byte pipe (byte-pipe.ts), not pulled through a
 * JavaScript `ReadableStream`, whose pump holds a chain of promises per network read for the
 * stream's life (docs/benchmarks.md, "Gateway memory during a long stream"). The pipe has no queue: a write resolves once
 * the client's side took the chunk, so at most one network read of the worker's body is held here
 * and a slow client slows the worker. A client that goes away fails the pending write; the worker's
 * body is then cancelled.
 */

import { anthropicErrorBody } from '../../api/anthropic/errors.js';
import { sseEventName, streamEventOf } from '../../api/stream-end.js';
import { createStreamOpener } from '../../envelope/stream.js';
import { isSealgateError } from '../../errors.js';
import { errorBody, type HttpErrorCode } from '../../http/errors.js';
import { encodeSseEvent, type SseEvent, SseParser } from '../../model/sse.js';
import { keptReceiptComment } from '../../receipts/kept-receipt.js';
import type { UsageMeter } from '../limits/usage-meter.js';
import { log } from '../log.js';
import { byteStreamPipe } from './byte-pipe.js';
import type { AnswerReceipt } from './receipt-check.js';
import { type Exchange, isTampered } from './upstream.js';

type Answer = Extract<Exchange, { kind: 'answer' }>;

export function openStreamAnswer(
  answer: Answer,
  headers: Record<string, string>,
  receipt?: AnswerReceipt,
  meter?: UsageMeter,
): Response {
  const pipe = byteStreamPipe();
  // Runs for as long as the response body is being sent: workerd keeps the request's context alive
  // while its body is open, and every failure is handled inside (no rejection escapes).
  const relay = new StreamRelay(answer, pipe.writable.getWriter(), receipt, meter);
  void relay.run().finally(() => meter?.finishStream());
  return new Response(pipe.readable, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
  });
}

/** One stream's relay from the worker's sealed frames to the client's opened events. */
class StreamRelay {
  readonly #rid: string;
  readonly #opener: ReturnType<typeof createStreamOpener>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #receipt: AnswerReceipt | undefined;
  readonly #meter: UsageMeter | undefined;
  // As parseSseStream (src/model/sse.ts): UTF-8 with U+FFFD for bad bytes; the parser strips the BOM.
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  readonly #parser = new SseParser();
  readonly #encoder = new TextEncoder();
  /** The client's side is gone (cancelled, disconnected): nothing more can be sent. */
  #clientGone = false;
  /**
   * The route's final event (`[DONE]`, `message_stop`, `response.completed`: src/api/stream-end.ts)
   * arrived; it goes out only when the answer is known complete, so a cut stream never looks whole.
   */
  #held: string | null = null;
  readonly #route: string;
  /** The end frame verified; with a receipt expected, its trailer is the next event. */
  #ended = false;
  /** The client's events of this read, in order; each one only after its frame verified. */
  #out = '';
  /**
   * This read's frames (the SSE data, as received), not yet fed to the receipt's frame hash: fed
   * while the client's write is under way, off the path to its first byte (#flushFrames). The hash
   * is read only by the trailer's check, and every frame is fed before it, in order.
   */
  #unhashed: string[] = [];

  constructor(
    answer: Answer,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    receipt: AnswerReceipt | undefined,
    meter: UsageMeter | undefined,
  ) {
    this.#meter = meter;
    this.#rid = answer.context.requestId;
    this.#route = answer.context.route;
    this.#opener = createStreamOpener(answer.context);
    this.#reader = answer.response.body ? answer.response.body.getReader() : undefined;
    this.#writer = writer;
    this.#receipt = receipt;
  }

  async run(): Promise<void> {
    try {
      await this.#relay();
    } catch (e) {
      await this.#fail(e);
    }
  }

  async #relay(): Promise<void> {
    const reader = this.#reader;
    if (!reader) throw Object.assign(new Error('no body'), { code: 'stream_truncated' });
    for (;;) {
      const next = await reader.read();
      if (next.done) return await this.#transportEnded();
      // Most reads complete no frame (a frame spans several): those cost no async step here.
      const frames = this.#parser.push(this.#decoder.decode(next.value, { stream: true }));
      if (frames.length > 0 && (await this.#openRead(frames))) return await this.#complete();
      if (this.#out) {
        const text = this.#out;
        this.#out = '';
        // Resolves once the client took it: the next read waits for that.
        const sent = this.#send(text);
        try {
          this.#flushFrames(); // hashed while the client's write is under way
        } finally {
          await sent;
        }
      } else this.#flushFrames(); // only part of a frame so far, or usage withheld: read on
    }
  }

  /** Opens the frames completed by one read into `#out`; true once the answer is complete. */
  async #openRead(frames: readonly SseEvent[]): Promise<boolean> {
    const receipt = this.#receipt;
    for (const event of frames) {
      if (this.#ended) {
        // The receipt trailer follows the end frame; [DONE] only once it verified, right after the
        // client's copy of the receipt (an SSE comment: receipts/kept-receipt.ts).
        this.#flushFrames();
        const kept = await receipt?.checkStream(event.data);
        if (kept !== undefined) this.#out += keptReceiptComment(kept);
        return true;
      }
      if (receipt) this.#unhashed.push(event.data);
      const events = await this.#opener.open(event.data);
      if (events === null) {
        // End frame verified: the answer is known complete (once its receipt verified, if any).
        this.#ended = true;
        if (receipt) continue;
        return true;
      }
      for (const data of events) this.#emit(data);
    }
    return false;
  }

  /** One verified model event: metered, held if it is the route's final event, else queued. */
  #emit(data: string): void {
    // Its step and SSE name from one parse (typed routes parse each event: stream-end.ts).
    const { step, name } = streamEventOf(this.#route, data);
    if (this.#meter && !this.#meter.chunk(data, step)) return; // usage the client did not ask for
    if (step === 'end') {
      this.#held = data;
      return;
    }
    this.#out += encodeSseEvent(data, name);
  }

  /** Feeds the receipt's frame hash the frames received so far, in order. */
  #flushFrames(): void {
    const receipt = this.#receipt;
    if (!receipt || this.#unhashed.length === 0) return;
    for (const data of this.#unhashed) receipt.frame(data);
    this.#unhashed = [];
  }

  /** The worker's body ended before the answer was complete: always throws. */
  async #transportEnded(): Promise<never> {
    this.#parser.push(this.#decoder.decode()); // a final partial line cannot complete an event
    if (this.#ended) {
      this.#flushFrames();
      await this.#receipt?.checkStream(undefined); // throws: the end frame came, its receipt did not
      throw new Error('sealed stream: a receipt check passed without a receipt');
    }
    await this.#opener.finish(); // throws stream_truncated: the end frame returns earlier, never here
    throw new Error('sealed stream: transport ended in an impossible state');
  }

  async #complete(): Promise<void> {
    if (this.#held !== null) this.#out += this.#event(this.#held);
    if (this.#out) await this.#send(this.#out);
    // The answer is whole: counted now, as nothing below may run once the client's side closed
    // (the request's context can end with its body). finishStream is idempotent (run() calls it).
    this.#meter?.finishStream();
    await this.#writer.close();
    await this.#readEnd();
  }

  /**
   * After the trailer the worker's body has nothing left but its end: one read takes it, which
   * costs the runtime about half of what cancelling a body it has not finished costs (CPU profile,
   * commit body). Anything else after the trailer is refused unread: the body is cancelled.
   * Runs after the client's side closed, so a worker that holds its body open never holds the
   * client's end.
   */
  async #readEnd(): Promise<void> {
    const reader = this.#reader;
    if (!reader) return;
    try {
      if ((await reader.read()).done) return;
    } catch {
      return; // the worker's body broke after the answer was whole: nothing left to release
    }
    await this.#release();
  }

  /** The frames of this read that verified before the failure, then the error event. */
  async #fail(e: unknown): Promise<void> {
    await this.#release();
    if (this.#clientGone) {
      await this.#writer.abort().catch(() => undefined);
      return;
    }
    const code: HttpErrorCode = isSealgateError(e, 'stream_truncated')
      ? 'stream_truncated'
      : isTampered(e)
        ? 'upstream_tampered'
        : 'upstream_unavailable';
    log('error', 'stream_rejected', { rid: this.#rid, code, message: (e as Error).message });
    const message = 'the stream from the AI worker was cut or did not authenticate';
    this.#out += streamErrorEvent(this.#route, code, message);
    try {
      await this.#send(this.#out);
      await this.#writer.close();
    } catch {
      await this.#writer.abort().catch(() => undefined);
    }
  }

  /** One client event; Messages and Responses name each event by its `type` (stream-end.ts). */
  #event(data: string): string {
    return encodeSseEvent(data, sseEventName(this.#route, data));
  }

  async #send(text: string): Promise<void> {
    try {
      await this.#writer.write(this.#encoder.encode(text));
    } catch (e) {
      this.#clientGone = true;
      throw e;
    }
  }

  #release(): Promise<unknown> | undefined {
    return this.#reader?.cancel().catch(() => undefined);
  }
}

/**
 * The error event that ends a broken stream, in the route's own shape: Anthropic's `error` event
 * (Messages API, "Error events"), an `error` event carrying OpenAI's error object on Responses
 * (the openai SDK throws on a `data` with `error`), OpenAI's error JSON on chat and completions.
 */
function streamErrorEvent(route: string, code: HttpErrorCode, message: string): string {
  if (route === '/v1/messages')
    return encodeSseEvent(JSON.stringify(anthropicErrorBody(code, message)), 'error');
  if (route === '/v1/responses') {
    return encodeSseEvent(JSON.stringify({ type: 'error', ...errorBody(code, message) }), 'error');
  }
  return encodeSseEvent(JSON.stringify(errorBody(code, message)));
}
