/**
 * Server-sent events, both ways, per WHATWG HTML §9.2 ("Server-sent events"):
 *
 * - `SseParser` / `parseSseStream`: §9.2.6 "Interpreting an event stream". Lines end in CRLF, LF
 *   or CR (a CRLF split across two network chunks is still one line end); a leading U+FEFF is
 *   dropped; `:` lines are comments; `field: value` loses one leading space; `data` lines append
 *   to the data buffer with a LF between them; a blank line dispatches (with the trailing LF
 *   removed), unless the data buffer is empty; `id` with a NUL is ignored; `retry` with non-digits is
 *   ignored; an event that the stream cuts off before its blank line is discarded, never dispatched.
 * - `encodeSseEvent`: §9.2.5 "Parsing an event stream" grammar — one `data:` line per line of the
 *   payload (so a payload with line breaks survives), blank line at the end.
 *
 * Runtime-neutral: WHATWG streams and TextDecoder only.
 */
import { SealgateError } from '../errors.js';

export interface SseEvent {
  /** The `event:` field, "message" when absent (§9.2.6 dispatch step 4). */
  readonly type: string;
  readonly data: string;
  /** The last event id seen so far ("" when none). */
  readonly lastEventId: string;
}

export class SseParser {
  readonly #maxPending: number;
  /**
   * The unfinished line, as the pieces that arrived. Each push scans only its own text, so a long
   * line fed in many small chunks costs linear time, not quadratic (rescanning a growing buffer).
   */
  #pending: string[] = [];
  #pendingLength = 0;
  /** The previous chunk ended with CR: a LF at the start of the next one belongs to it. */
  #afterCr = false;
  #first = true;
  #type = '';
  /** The type was set during the current `push` (so it may be a slice of that push's text). */
  #typeFresh = false;
  /**
   * The data buffer as its lines (the spec's value ‖ LF appends with the last LF dropped: the lines
   * joined by LF): the first, the others (most events have one), how many, their characters.
   */
  #data = '';
  #more: string[] | null = null;
  #lines = 0;
  #dataLength = 0;
  /** Lines from `#fresh` on were appended during the current `push`. */
  #fresh = 0;
  #lastEventId = '';
  #retry: number | undefined;

  /**
   * `maxPending` bounds what a peer can make us hold: the unfinished line plus the data of the
   * unfinished event (UTF-16 code units). Beyond it `push` throws `SealgateError('model_error')`.
   */
  constructor(options: { maxPending?: number } = {}) {
    this.#maxPending = options.maxPending ?? 16 * 1024 * 1024;
  }

  /** The last valid `retry:` value (ms), if any. */
  get retry(): number | undefined {
    return this.#retry;
  }

  /** Feeds decoded text; returns the events it completes, in order. */
  push(text: string): SseEvent[] {
    // Invariant: an empty read (a zero-length chunk, a UTF-8 character still incomplete) changes
    // nothing — above all not #afterCr, or the CR before it and the LF after it would be two line
    // ends and dispatch an event early (§9.2.6: CRLF is one line end, however the bytes arrive).
    if (text.length === 0) return [];
    let input = text;
    if (this.#first) {
      this.#first = false;
      if (input.charCodeAt(0) === 0xfeff) input = input.slice(1);
    }
    if (this.#afterCr && input.startsWith('\n')) input = input.slice(1);
    this.#afterCr = false;
    this.#fresh = this.#lines;
    this.#typeFresh = false;
    const events: SseEvent[] = [];
    let start = 0;
    // The next CR, LF and colon found by the runtime's native indexOf (not a JavaScript loop over
    // every character: that loop was most of the parser's time in the worker's stream profile).
    // Each is searched again only once the scan has passed it, so a read costs linear work however
    // its lines look; once one is -1 there is none further on.
    let cr = input.indexOf('\r');
    let lf = input.indexOf('\n');
    let colon = input.indexOf(':');
    for (;;) {
      if (cr !== -1 && cr < start) cr = input.indexOf('\r', start);
      if (lf !== -1 && lf < start) lf = input.indexOf('\n', start);
      let i = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (i === -1) break;
      const c = input.charCodeAt(i);
      let event: SseEvent | undefined;
      if (this.#pending.length > 0) {
        const line = this.#pending.join('') + input.slice(start, i);
        this.#pending = [];
        this.#pendingLength = 0;
        event = this.#line(line, 0, line.length, line.indexOf(':'));
      } else {
        if (colon !== -1 && colon < start) colon = input.indexOf(':', start);
        event = this.#line(input, start, i, colon !== -1 && colon < i ? colon : -1);
      }
      if (c === 0x0d) {
        if (i + 1 < input.length) {
          if (input.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          this.#afterCr = true;
        }
      }
      start = i + 1;
      if (event) events.push(event);
    }
    if (start < input.length) {
      this.#pending.push(input.slice(start));
      this.#pendingLength += input.length - start;
    }
    if (this.#pendingLength + this.#dataLength > this.#maxPending) {
      throw new SealgateError(
        'model_error',
        `SSE: more than ${this.#maxPending} characters without an event boundary`,
      );
    }
    // An event that goes on in the next read holds copies, not slices of this read (see detached):
    // what this read added, each part copied once, so a long event costs linear work.
    if (this.#fresh === 0 && this.#lines > 0) this.#data = flatCopy(this.#data);
    const more = this.#more;
    if (more) for (let i = Math.max(this.#fresh - 1, 0); i < more.length; i++) more[i] = flatCopy(more[i]!);
    if (this.#typeFresh) this.#type = flatCopy(this.#type);
    return detached(events, input.length);
  }

  /** The end of the stream: a pending, unterminated event is discarded (§9.2.6). */
  end(): void {
    this.#pending = [];
    this.#pendingLength = 0;
    this.#data = '';
    this.#more = null;
    this.#lines = 0;
    this.#dataLength = 0;
    this.#type = '';
  }

  /**
   * The line `s[start, end)` (its line end excluded), `colon` the index of its first ':' or -1.
   * Fields are compared in place and only a value is sliced out: one string per line, not three.
   */
  #line(s: string, start: number, end: number, colon: number): SseEvent | undefined {
    if (start === end) return this.#dispatch();
    if (colon === start) return undefined; // a comment
    const fieldEnd = colon === -1 ? end : colon;
    let valueStart = colon === -1 ? end : colon + 1;
    if (valueStart < end && s.charCodeAt(valueStart) === 0x20) valueStart++;
    const field = fieldEnd - start;
    if (field === 4 && s.startsWith('data', start)) {
      // The spec appends value ‖ LF and drops the last LF at dispatch: the values joined by LF.
      const value = s.slice(valueStart, end);
      if (this.#lines === 0) this.#data = value;
      else if (this.#more === null) this.#more = [value];
      else this.#more.push(value);
      this.#lines++;
      this.#dataLength += end - valueStart + 1;
    } else if (field === 5 && s.startsWith('event', start)) {
      this.#type = s.slice(valueStart, end);
      this.#typeFresh = true;
    } else if (field === 2 && s.startsWith('id', start)) {
      const value = s.slice(valueStart, end);
      if (!value.includes('\0')) this.#lastEventId = value;
    } else if (field === 5 && s.startsWith('retry', start)) {
      const value = s.slice(valueStart, end);
      if (/^[0-9]+$/.test(value)) this.#retry = Number(value);
    } // unknown fields are ignored
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const hasData = this.#lines > 0;
    const data = this.#more === null ? this.#data : `${this.#data}\n${this.#more.join('\n')}`;
    const type = this.#type === '' ? 'message' : this.#type;
    this.#data = '';
    this.#more = null;
    this.#lines = 0;
    this.#dataLength = 0;
    this.#fresh = 0;
    this.#type = '';
    if (!hasData) return undefined;
    return { type, data, lastEventId: this.#lastEventId };
  }
}

/**
 * The events of one read, their data copied out of the read's text when they are a small part of
 * it. A one-line event's data is a slice of the read (no copy), and a slice keeps the whole read
 * alive (an event begun in an earlier read holds copies: `push`). An event queued for sealing
 * (src/ai-worker/sealed-stream-body.ts counts its characters, not its read's) must not hold a read
 * many times its size, which a peer could make of comment or padding lines. Copied when the events
 * hold less than half the read (a model's reads are mostly data: the worker's bench answer keeps
 * ~90 %), so what a read's events hold is at most twice their size.
 */
function detached(events: SseEvent[], readLength: number): SseEvent[] {
  let kept = 0;
  for (const e of events) kept += e.data.length;
  if (kept * 2 >= readLength) return events;
  return events.map((e) => ({ type: e.type, data: flatCopy(e.data), lastEventId: e.lastEventId }));
}

/**
 * A copy of `s` that holds nothing of the string it was sliced from: a concatenation is flattened
 * into a new sequential string by the first indexed read (V8's String::Flatten), and the slice
 * taken of it refers to that copy only.
 */
function flatCopy(s: string): string {
  const joined = `${s}\n`;
  joined.charCodeAt(0);
  return joined.slice(0, -1);
}

/**
 * Reads an SSE body event by event, as bytes arrive (nothing is buffered beyond the current line).
 * Decodes UTF-8 as the spec says (invalid bytes become U+FFFD). Cancelling the iteration (break,
 * return, throw) cancels the body.
 */
export async function* parseSseStream(
  body: ReadableStream<Uint8Array>,
  options: { maxPending?: number } = {},
): AsyncGenerator<SseEvent> {
  for await (const batch of parseSseBatches(body, options)) yield* batch;
}

/**
 * `parseSseStream` a network read at a time: the events each chunk of the body completes, as one
 * array (never empty). One generator step per read rather than per event, for a consumer that
 * handles a burst at once (the worker's model stream, upstream.ts).
 */
export async function* parseSseBatches(
  body: ReadableStream<Uint8Array>,
  options: { maxPending?: number } = {},
): AsyncGenerator<SseEvent[]> {
  const reader = body.getReader();
  // The parser strips the one leading BOM itself (ignoreBOM keeps TextDecoder from doing it too).
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const parser = new SseParser(options);
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        // A final partial line cannot complete an event; flushing only reports stray bytes.
        const last = parser.push(decoder.decode());
        parser.end();
        if (last.length > 0) yield last;
        return;
      }
      const events = parser.push(decoder.decode(value, { stream: true }));
      if (events.length > 0) yield events;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** One event in wire form: `[event: type\n]data: line\n…\n` (one `data:` line per payload line). */
export function encodeSseEvent(data: string, type?: string): string {
  if (type !== undefined && /[\r\n]/.test(type)) throw new TypeError('SSE event type must be one line');
  const head = type === undefined ? '' : `event: ${type}\n`;
  // One line (every sealed frame: JSON with base64url): no split, no regular expression over it.
  if (!data.includes('\n') && !data.includes('\r')) return `${head}data: ${data}\n\n`;
  return `${head}${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join('')}\n`;
}
