/**
 * Opens a sealed stream (docs/protocol.md, sealed streams: format 3, binary records) as the client
 * reads it. Each round takes ONE read of the worker's body (up to 64 KiB: src/http/chunk-reader.ts),
 * pushes its bytes to the opener (which verifies every record completed in it, in order:
 * envelope/stream.ts) and hands the client the verified events, each its own SSE event, as one
 * chunk, so per-chunk costs downstream (the runtime's stream plumbing, a proxy, the socket) are
 * paid per network read, not per frame.
 * Invariants: only frames whose tag verified are released, strictly in order, and nothing after the
 * first failure; the route's final event (OpenAI's `[DONE]`) goes out only after the end record and
 * the receipt trailer verified, so a cut stream never looks complete — it ends with an error event
 * in the route's shape instead. A worker holds the DEK, so the route's rules are checked on verified
 * events too (upstream_tampered): the final event is the last event and the end record needs it
 * (zero events, or none final, is not a whole answer), a typed event's name is one line, and no
 * event is a failure (the worker's own error event) — a failing worker sends no end record.
 *
 * On chat and completions without metering, an event's verified bytes go out as they are, with
 * only `data: ` and `\n\n` around them: the opener guarantees well-formed UTF-8 without CR
 * (stream-events.ts), which with no LF is all that makes them one SSE event — no re-encode; a
 * frame's events are framed in one buffer (#rawFrame). Each is still decoded and parsed once: it
 * must be a JSON chunk (stream-end.ts isChatChunk), or the client gets our error event, not its
 * SDK's parse error. An event with LF (a multi-line `data:` of the
 * model server) gets a `data: ` per line. Typed routes and metered keys also read each event (its
 * JSON `type`, its usage).
 *
 * The events are pushed into workerd's native byte pipe (byte-pipe.ts), not pulled through a
 * JavaScript `ReadableStream`, whose pump holds a chain of promises per network read for the
 * stream's life (docs/benchmarks.md, "Gateway memory during a long stream"). The pipe has no queue: a write resolves once
 * the client's side took the chunk, so at most one network read of the worker's body is held here
 * and a slow client slows the worker. A client that goes away fails the pending write; the worker's
 * body is then cancelled — but for a metered key's stream, whose usage comes last: its worker's body
 * is read on, for the meter alone, to its end or for at most DRAIN_MS (#clientLeft), so that leaving
 * before the usage event does not make the answer cheaper (limits/usage-meter.ts).
 */

import { anthropicErrorBody } from '../../api/anthropic/errors.js';
import { hasTypedEvents, isChatChunk, sseEventName, streamEventOf } from '../../api/stream-end.js';
import type { SealedErrorContent } from '../../envelope/error-response.js';
import { createStreamOpener, sealedFailureOf } from '../../envelope/stream.js';
import { isSealgateError, SealgateError } from '../../errors.js';
import { type ChunkReader, chunkReader } from '../../http/chunk-reader.js';
import { errorBody, type HttpErrorCode } from '../../http/errors.js';
import { isSealedWorkerError } from '../../http/worker-errors.js';
import { encodeSseEvent } from '../../model/sse.js';
import { keptReceiptComment } from '../../receipts/kept-receipt.js';
import type { UsageMeter } from '../limits/usage-meter.js';
import { log } from '../log.js';
import { byteStreamPipe } from './byte-pipe.js';
import type { AnswerReceipt } from './receipt-check.js';
import { framedEvents, SseOut } from './sse-out.js';
import { type Exchange, isTampered } from './upstream.js';

type Answer = Extract<Exchange, { kind: 'answer' }>;

/**
 * `defer`: the execution context's `waitUntil`, which keeps the request's context alive for the
 * read of the worker's body end after the client's side closed (StreamRelay #complete); absent
 * (tests without a context), that read is awaited by the relay alone.
 */
export function openStreamAnswer(
  answer: Answer,
  headers: Record<string, string>,
  receipt?: AnswerReceipt,
  meter?: UsageMeter,
  defer?: (work: Promise<unknown>) => void,
): Response {
  const pipe = byteStreamPipe();
  // Runs for as long as the response body is being sent: workerd keeps the request's context alive
  // while its body is open, and every failure is handled inside (no rejection escapes).
  const relay = new StreamRelay(answer, pipe.writable.getWriter(), { receipt, meter, defer });
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

/** What a relay needs besides the answer and the client's side (openStreamAnswer). */
interface RelayOptions {
  receipt: AnswerReceipt | undefined;
  meter: UsageMeter | undefined;
  defer: ((work: Promise<unknown>) => void) | undefined;
}

/**
 * How long after a verified trailer the worker's body may take to end (its chunked terminator):
 * an honest worker ends it in the same write or the next packet; one that does not is cancelled.
 */
const READ_END_MS = 5000;

/**
 * How long a metered stream's worker body is read on after its client left (#clientLeft). Cloudflare
 * cancels a request's `waitUntil` work 30 s after its client disconnected (Workers limits,
 * "Duration"); the meter's settlement (limits/standing-cache.ts: a 1 s batch, then one Durable
 * Object call) must still fit in them. A drain cut here is charged the meter's estimate.
 */
export const DRAIN_MS = 20_000;

/**
 * A metered stream whose worker sends nothing for this long writes its client an SSE comment
 * (`: keep-alive`; WHATWG HTML §9.2.6: a line starting with a colon is ignored, as the kept
 * receipt's comment line is). workerd's byte pipe learns that its reader went away only at a write
 * (byte-pipe.ts), so without it a client that left while the model was silent would go unnoticed,
 * its drain never started, and the request's `waitUntil` work — the meter's settlement with it —
 * cut at 30 s, uncounted. With it a departure is noticed within this time, and the drain still
 * ends inside the 30 s: KEEPALIVE_MS + DRAIN_MS + the settlement.
 */
export const KEEPALIVE_MS = 5_000;
const KEEPALIVE = new TextEncoder().encode(': keep-alive\n\n');

/** `[DONE]`, the chat routes' final event (src/api/stream-end.ts), as bytes. */
const DONE = new Uint8Array([0x5b, 0x44, 0x4f, 0x4e, 0x45, 0x5d]);
const LF = 0x0a;
/** Used without `stream` (each call whole and stateless): one for the isolate, not one per stream. */
const decoder = new TextDecoder();

/** One stream's relay from the worker's sealed records to the client's opened events. */
class StreamRelay {
  readonly #rid: string;
  readonly #opener: ReturnType<typeof createStreamOpener>;
  /** The worker's body, read in as few reads as workerd allows (src/http/chunk-reader.ts). */
  readonly #reader: ChunkReader | undefined;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #receipt: AnswerReceipt | undefined;
  readonly #meter: UsageMeter | undefined;
  readonly #defer: ((work: Promise<unknown>) => void) | undefined;
  /** Messages and Responses: events named and typed by their JSON `type` (stream-end.ts). */
  readonly #typed: boolean;
  /** Events go out as their verified bytes (chat, completions, no meter): no re-encode. */
  readonly #raw: boolean;
  /** The client's side is gone (cancelled, disconnected): nothing more can be sent. */
  #clientGone = false;
  /** Set while a metered stream is read on after its client left (#clientLeft): cuts it at DRAIN_MS. */
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  /** The relay ended (run settled): a later error of the client's side is our own abort. */
  #ended = false;
  /**
   * The route's final event (`[DONE]`, `message_stop`, `response.completed`: src/api/stream-end.ts)
   * arrived; it goes out only when the answer is known complete, so a cut stream never looks whole.
   */
  #held: string | null = null;
  readonly #route: string;
  /** The client's events of this read, in order; each one only after its frame verified. */
  readonly #out = new SseOut();
  /**
   * The last read's body bytes under the receipt's stream hash, not yet fed to it: fed when the
   * next read arrived (#flushHash), off the path to the client's chunk of it. workerd sends that
   * chunk from its event loop, which runs only once the relay yields to it — not when the write's
   * promise resolves, and hashing there (the first read also made the hash state, then a node:crypto
   * stream Transform) still held it (CPU profile, commit body); waiting for the next read yields.
   * The hash is read only by the trailer's check: every byte is fed before it, in order (each read's
   * before the next read's). A view of the read's own fresh buffer (chunk-reader.ts): never reused.
   */
  #unhashed: Uint8Array | undefined;
  readonly #onFrame = (events: readonly Uint8Array[]): void => {
    if (this.#raw && this.#rawFrame(events)) return;
    for (const event of events) this.#emit(event);
  };

  constructor(answer: Answer, writer: WritableStreamDefaultWriter<Uint8Array>, options: RelayOptions) {
    const { receipt, meter } = options;
    this.#meter = meter;
    this.#defer = options.defer;
    this.#rid = answer.context.requestId;
    this.#route = answer.context.route;
    this.#typed = hasTypedEvents(this.#route);
    this.#raw = !meter && !this.#typed;
    this.#opener = createStreamOpener(answer.context, { trailer: receipt !== undefined });
    this.#reader = answer.response.body ? chunkReader(answer.response.body) : undefined;
    this.#writer = writer;
    this.#receipt = receipt;
  }

  async run(): Promise<void> {
    try {
      await this.#relay();
    } catch (e) {
      await this.#fail(e);
    } finally {
      this.#ended = true;
      clearTimeout(this.#drainTimer);
    }
  }

  async #relay(): Promise<void> {
    const reader = this.#reader;
    if (!reader) throw Object.assign(new Error('no body'), { code: 'stream_truncated' });
    const receipt = this.#receipt;
    for (;;) {
      const next = await this.#read(reader);
      this.#flushHash(); // the read before this one's bytes
      if (next.done) return this.#transportEnded();
      const progress = await this.#opener.push(next.value, this.#onFrame);
      if (receipt && progress.hashed.length > 0) this.#unhashed = progress.hashed;
      if (progress.ended && (!receipt || progress.trailer !== undefined)) {
        // An honest worker's last event is the route's final one (model/upstream.ts takeEvents).
        if (this.#held === null) throw tampered("the stream ended without the route's final event");
        if (receipt) {
          // [DONE] only once the receipt verified, right after the client's copy of it (an SSE
          // comment: receipts/kept-receipt.ts).
          this.#flushHash();
          this.#out.text(keptReceiptComment(await receipt.checkStream(progress.trailer)));
        }
        return await this.#complete(progress.excess);
      }
      if (this.#out.empty) continue; // only part of a record so far, or usage withheld: read on
      // Resolves once the client took it: the next read waits for that.
      await this.#send();
    }
  }

  /**
   * The next read of the worker's body. A metered stream's read that takes KEEPALIVE_MS writes the
   * client a keep-alive comment, so its departure is noticed (#clientLeft) while the model is silent.
   */
  async #read(reader: ChunkReader): Promise<ReadableStreamReadResult<Uint8Array>> {
    const read = reader.read();
    if (!this.#meter) return read;
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<'idle'>((resolve) => {
        timer = setTimeout(() => resolve('idle'), KEEPALIVE_MS);
      });
      try {
        const next = await Promise.race([read, idle]);
        if (next !== 'idle') return next;
      } finally {
        clearTimeout(timer);
      }
      if (this.#clientGone) continue;
      try {
        await this.#writer.write(KEEPALIVE);
      } catch {
        this.#clientLeft();
      }
    }
  }

  /**
   * A verified frame on chat or completions without a meter (#raw): its events framed into ONE
   * buffer (sse-out.ts framedEvents), where #emit queues three parts per event (a bench stream is
   * ~56 events) for a concatenation at the write. Each event is still decoded and checked alone
   * (#rawEvent: #emit's checks, in its order), so a failing event releases exactly the events before
   * it, then throws. Not taken (false, nothing done) when an event has LF: it needs a `data: ` per
   * line (#emit). Decoding the frame once and slicing was tried and dropped: a frame with one
   * multi-byte character (the bench's has six bytes of them) decodes to a two-byte string.
   */
  #rawFrame(events: readonly Uint8Array[]): boolean {
    if (events.some((event) => event.indexOf(LF) !== -1)) return false;
    const { bytes, ends } = framedEvents(events);
    let released = 0; // the framed bytes of the events that passed, in order
    try {
      for (const [i, event] of events.entries()) {
        if (this.#rawEvent(event)) released = ends[i]!;
      }
    } finally {
      this.#out.bytes(bytes.subarray(0, released));
    }
    return true;
  }

  /** #emit's checks of one #raw event: false for `[DONE]` (held, not sent yet). */
  #rawEvent(event: Uint8Array): boolean {
    if (this.#held !== null) throw tampered("an event after the route's final event");
    if (startsWithDone(event)) {
      if (event.length !== DONE.length) throw tampered('an event extends [DONE]');
      this.#held = '[DONE]';
      return false;
    }
    if (!isChatChunk(decoder.decode(event))) throw tampered('a chat event that is not a JSON chunk');
    return true;
  }

  /** One verified model event: metered, held if it is the route's final event, else queued. */
  #emit(event: Uint8Array): void {
    // Nothing follows the route's final event (it is held, so it would go out after, reordered).
    if (this.#held !== null) throw tampered("an event after the route's final event");
    const done = startsWithDone(event);
    // The openai SDK ends at any event that starts with `[DONE]` (core/streaming.js) and ignores
    // what follows, our error event too: on chat and completions only `[DONE]` itself may.
    if (done && event.length !== DONE.length && !this.#typed) throw tampered('an event extends [DONE]');
    if (done && this.#raw) {
      this.#held = '[DONE]';
      return;
    }
    const data = decoder.decode(event);
    // A chat or completions event the client's SDK could not take (not a JSON object, or an in-band
    // error): the route's own error event instead (stream-end.ts isChatChunk).
    if (!done && !this.#typed && !isChatChunk(data)) throw tampered('a chat event that is not a JSON chunk');
    if (this.#raw) {
      if (event.indexOf(LF) === -1) this.#out.event(event);
      else this.#out.text(encodeSseEvent(data)); // a data: line per line
      return;
    }
    // Its step and SSE name from one parse (typed routes parse each event: stream-end.ts).
    const { step, name } = streamEventOf(this.#route, data);
    // The name becomes an `event:` line: a CR or LF in it (JSON-escaped in the data) would add lines.
    if (name !== undefined && /[\r\n]/.test(name)) throw tampered('an event type is not one line');
    // An honest worker never seals one (a failing model stream ends without the end record:
    // model/upstream.ts takeEvents); the client gets the route's own error event, not the worker's.
    if (step === 'fail') throw tampered('a failure event (or one without a type) on a typed route');
    if (this.#meter && !this.#meter.chunk(data, step)) return; // usage the client did not ask for
    if (step === 'end') {
      this.#held = data;
      return;
    }
    this.#out.text(encodeSseEvent(data, name));
  }

  /** Feeds the receipt's stream hash the bytes received so far, in order. */
  #flushHash(): void {
    const bytes = this.#unhashed;
    if (!bytes) return;
    this.#unhashed = undefined;
    this.#receipt?.hash(bytes);
  }

  /** The worker's body ended before the answer was complete: always throws. */
  #transportEnded(): never {
    // Throws stream_truncated before the end record; decryption_failed (tampered) when the end
    // came and the expected receipt trailer did not, or came cut. A whole answer returned earlier.
    this.#opener.finish();
    throw new Error('sealed stream: transport ended in an impossible state');
  }

  /**
   * `excess`: bytes followed the trailer in its read; they are refused unread (#readEnd).
   * The client's end never waits for the worker's: the read of the worker's body end starts
   * before the client's side closes and is handed to `defer` (waitUntil), because the request's
   * context can end with the client's body, and a read it cancels leaves the worker's connection
   * unfinished — workerd then drops it instead of keeping it alive. So the connection is kept
   * whether the worker's last chunk and its chunked terminator come in one packet or two.
   */
  async #complete(excess: boolean): Promise<void> {
    if (this.#held !== null) this.#out.text(this.#event(this.#held));
    if (!this.#out.empty) await this.#send();
    // The answer is whole: counted now, as nothing below may run once the client's side closed
    // (the request's context can end with its body). finishStream is idempotent (run() calls it).
    this.#meter?.finishStream();
    const end = excess ? Promise.resolve(this.#release()) : this.#readEnd();
    this.#defer?.(end);
    if (this.#clientGone) await this.#writer.abort().catch(() => undefined);
    else await this.#writer.close();
    await end;
  }

  /**
   * After the trailer the worker's body has nothing left but its end: one read takes it, which
   * costs the runtime about half of what cancelling a body it has not finished costs (CPU profile,
   * commit body). Anything else after the trailer is refused unread: the body is cancelled, and so
   * is a body whose end has not come READ_END_MS after the trailer (a worker that holds its body
   * open holds no request context: `defer`'s waitUntil ends).
   */
  async #readEnd(): Promise<void> {
    const reader = this.#reader;
    if (!reader) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), READ_END_MS);
    });
    try {
      const next = await Promise.race([reader.read(), late]);
      if (next !== 'late' && next.done) return;
    } catch {
      return; // the worker's body broke after the answer was whole: nothing left to release
    } finally {
      clearTimeout(timer);
    }
    await this.#release();
  }

  /**
   * The frames of this read that verified before the failure, then the error event: the worker's
   * sealed failure (its error frame: the code and the model server's message, sealed to this
   * request) as it says, or our own for a stream cut or not authentic.
   */
  async #fail(e: unknown): Promise<void> {
    await this.#release();
    const failure = sealedFailureOf(e);
    if (failure) this.#meter?.workerFailed();
    if (this.#clientGone) {
      await this.#writer.abort().catch(() => undefined);
      return;
    }
    const { code, message } = failure ? failureEvent(failure) : brokenStreamEvent(e);
    log(failure ? 'warn' : 'error', failure ? 'stream_failed' : 'stream_rejected', {
      rid: this.#rid,
      code,
      message: (e as Error).message, // never the sealed message: it may quote the prompt
    });
    this.#out.text(streamErrorEvent(this.#route, code, message));
    try {
      await this.#send();
      await this.#writer.close();
    } catch {
      await this.#writer.abort().catch(() => undefined);
    }
  }

  /** One client event; Messages and Responses name each event by its `type` (stream-end.ts). */
  #event(data: string): string {
    return encodeSseEvent(data, sseEventName(this.#route, data));
  }

  /** Writes what is queued for the client as one chunk (dropped while draining). */
  async #send(): Promise<void> {
    const chunk = this.#out.take();
    if (this.#clientGone) return; // the client left (#clientLeft): nobody reads it
    try {
      await this.#writer.write(chunk);
    } catch (e) {
      this.#clientLeft();
      if (!this.#meter) throw e;
    }
  }

  /**
   * The client's side is gone (once). Not metered: the worker's body is cancelled, which ends the
   * relay's read. Metered: the relay reads on — every frame still opened and checked, its events
   * counted by the meter and dropped — so the usage that comes last is counted, not estimated. The
   * meter's settlement is `waitUntil` work (limits/enforce-limits.ts), which keeps the request's
   * context, and with it this read, alive. At DRAIN_MS the worker's body is cancelled (the read
   * then ends as a cut stream: the meter's estimate).
   */
  #clientLeft(): void {
    if (this.#clientGone || this.#ended) return;
    this.#clientGone = true;
    if (!this.#meter) {
      void this.#release();
      return;
    }
    log('info', 'stream_drain', { rid: this.#rid, route: this.#route });
    this.#drainTimer = setTimeout(() => void this.#release(), DRAIN_MS);
  }

  #release(): Promise<unknown> | undefined {
    return this.#reader?.cancel().catch(() => undefined);
  }
}

function startsWithDone(event: Uint8Array): boolean {
  if (event.length < DONE.length) return false;
  for (let i = 0; i < DONE.length; i++) if (event[i] !== DONE[i]) return false;
  return true;
}

const BROKEN_TEXT = 'the stream from the AI worker was cut or did not authenticate';

/** The client's error event for a stream cut, not authentic, or unreadable. */
function brokenStreamEvent(e: unknown): { code: HttpErrorCode; message: string } {
  const code: HttpErrorCode = isSealgateError(e, 'stream_truncated')
    ? 'stream_truncated'
    : isTampered(e)
      ? 'upstream_tampered'
      : 'upstream_unavailable';
  return { code, message: BROKEN_TEXT };
}

/**
 * The client's error event for the worker's sealed failure: its code and message when the code is
 * one a worker seals, with exactly its status (src/http/worker-errors.ts, as for a sealed error
 * answer: upstream.ts), else `upstream_tampered` — only a worker that is not ours seals another.
 */
function failureEvent(failure: SealedErrorContent): { code: HttpErrorCode; message: string } {
  if (isSealedWorkerError(failure.status, failure.code))
    return { code: failure.code, message: failure.message };
  return { code: 'upstream_tampered', message: BROKEN_TEXT };
}

/** A verified stream that breaks the route's rules: only a worker that is not ours sends it. */
function tampered(message: string): SealgateError {
  return new SealgateError('decryption_failed', `sealed stream: ${message}`);
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
