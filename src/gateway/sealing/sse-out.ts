/**
 * The client's SSE bytes of one network read, gathered in order from verified events' bytes (each
 * framed as `data: ` ‖ event ‖ `\n\n`) and from text (named events, comments, error events), then
 * taken as one chunk. Text in a row is encoded once, when bytes follow it or at `take`.
 * Invariant (the caller's): every event given as bytes is well-formed UTF-8 without CR or LF
 * (envelope/stream-events.ts), so each is exactly one SSE event.
 */
import { concatBytes } from '../../bytes.js';

const DATA = new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20]); // "data: "
const END = new Uint8Array([0x0a, 0x0a]); // "\n\n"

export class SseOut {
  readonly #encoder = new TextEncoder();
  #parts: Uint8Array[] = [];
  #text = '';
  #length = 0;

  get empty(): boolean {
    return this.#length === 0 && this.#text === '';
  }

  /** One event's data, as bytes (a view: copied once, at `take`). */
  event(data: Uint8Array): void {
    this.#flushText();
    this.#push(DATA);
    this.#push(data);
    this.#push(END);
  }

  /** SSE text as it is (already framed). */
  text(sse: string): void {
    this.#text += sse;
  }

  /** Everything gathered, as one chunk; the buffer is empty after. */
  take(): Uint8Array {
    this.#flushText();
    const parts = this.#parts;
    this.#parts = [];
    this.#length = 0;
    return parts.length === 1 ? parts[0]! : concatBytes(...parts);
  }

  #flushText(): void {
    if (this.#text === '') return;
    this.#push(this.#encoder.encode(this.#text));
    this.#text = '';
  }

  #push(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }
}
