/**
 * The client's SSE bytes of one network read, gathered in order from verified events' bytes (each
 * framed as `data: ` ‖ event ‖ `\n\n`) and from text (named events, comments, error events), then
 * taken as one chunk. Text in a row is encoded once, when bytes follow it or at `take`.
 * Invariant (the caller's): every event given as bytes is well-formed UTF-8 without CR
 * (envelope/stream-events.ts) and without LF (checked by the caller), so each is exactly one SSE
 * event.
 */
import { concatBytes } from '../../bytes.js';

const DATA = new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20]); // "data: "
const END = new Uint8Array([0x0a, 0x0a]); // "\n\n"
const LF = 0x0a;
/** Stateless: one for the isolate, not one per stream. */
const encoder = new TextEncoder();

/**
 * Every event of a frame framed (`data: ` ‖ event ‖ `\n\n`) in ONE buffer — one allocation and one
 * part per frame rather than three parts per event; `ends[i]` is where event i's framed bytes end.
 * Same invariant as `SseOut.event` for each event (the caller's: no CR, no LF).
 */
export function framedEvents(events: readonly Uint8Array[]): { bytes: Uint8Array; ends: number[] } {
  let size = 0;
  for (const event of events) size += DATA.length + event.length + END.length;
  const bytes = new Uint8Array(size);
  const ends: number[] = [];
  let at = 0;
  for (const event of events) {
    bytes.set(DATA, at);
    bytes.set(event, at + DATA.length);
    at += DATA.length + event.length;
    bytes[at++] = LF;
    bytes[at++] = LF;
    ends.push(at);
  }
  return { bytes, ends };
}

export class SseOut {
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

  /** SSE bytes as they are (already framed events; a view: copied once, at `take`). */
  bytes(framed: Uint8Array): void {
    if (framed.length === 0) return;
    this.#flushText();
    this.#push(framed);
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
    this.#push(encoder.encode(this.#text));
    this.#text = '';
  }

  #push(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }
}
