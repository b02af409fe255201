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
  #data = '';
  #hasData = false;
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
    const events: SseEvent[] = [];
    let start = 0;
    // The next CR and LF found by the runtime's native indexOf (not a JavaScript loop over every
    // character: that loop was most of the parser's time in the worker's stream profile). Once one
    // is -1 there is none further on.
    let cr = input.indexOf('\r');
    let lf = input.indexOf('\n');
    for (;;) {
      if (cr !== -1 && cr < start) cr = input.indexOf('\r', start);
      if (lf !== -1 && lf < start) lf = input.indexOf('\n', start);
      let i = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (i === -1) break;
      const c = input.charCodeAt(i);
      let line = input.slice(start, i);
      if (this.#pending.length > 0) {
        line = this.#pending.join('') + line;
        this.#pending = [];
        this.#pendingLength = 0;
      }
      if (c === 0x0d) {
        if (i + 1 < input.length) {
          if (input.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          this.#afterCr = true;
        }
      }
      start = i + 1;
      const event = this.#line(line);
      if (event) events.push(event);
    }
    if (start < input.length) {
      this.#pending.push(input.slice(start));
      this.#pendingLength += input.length - start;
    }
    if (this.#pendingLength + this.#data.length > this.#maxPending) {
      throw new SealgateError(
        'model_error',
        `SSE: more than ${this.#maxPending} characters without an event boundary`,
      );
    }
    return events;
  }

  /** The end of the stream: a pending, unterminated event is discarded (§9.2.6). */
  end(): void {
    this.#pending = [];
    this.#pendingLength = 0;
    this.#data = '';
    this.#hasData = false;
    this.#type = '';
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        this.#data += `${value}\n`;
        this.#hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.#retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const hasData = this.#hasData;
    const data = this.#data.endsWith('\n') ? this.#data.slice(0, -1) : this.#data;
    const type = this.#type === '' ? 'message' : this.#type;
    this.#data = '';
    this.#hasData = false;
    this.#type = '';
    if (!hasData) return undefined;
    return { type, data, lastEventId: this.#lastEventId };
  }
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
