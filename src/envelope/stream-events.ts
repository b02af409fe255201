/**
 * A sealed stream's data-frame plaintext (format 3, docs/protocol.md "Sealed stream"): events,
 * each `u32be(len) ‖ UTF-8 bytes` of one SSE `data:` payload, back to back, nothing after the last.
 *
 * Invariants of every event that `decodeEvents` returns (also from a frame whose tag verified: a
 * hostile worker holds the DEK): well-formed UTF-8 (Unicode 15, table 3-7) with no CR, and
 * 1..MAX_FRAME_EVENTS events per frame. An event is what an SSE parser makes of a `data:` field
 * (HTML Living Standard, "Interpreting an event stream"): its lines joined with LF, so it may hold
 * LF but never CR. Without LF, `data: ` ‖ event ‖ `\n\n` is exactly one SSE event; with LF, each
 * line needs its own `data: ` (src/model/sse.ts `encodeSseEvent`).
 */
import { isWellFormedString } from '../json/strict-json.js';

/** Events in one frame at most: bounds the work one frame can ask of the opener. */
export const MAX_FRAME_EVENTS = 256;
/**
 * Plaintext bytes of one frame at most (1 MiB), length prefixes included: the opener refuses a
 * longer record from its 5-byte head, before holding or decrypting any of it.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;

const CR = 0x0d;

/**
 * The plaintext of one frame: `events` (well-formed strings without CR, checked here) encoded
 * in place with `encodeInto`, no intermediate strings. A description of the problem instead when
 * the batch cannot be one frame (too many events, a bad event, over MAX_FRAME_BYTES).
 */
export function encodeEvents(events: readonly string[], encoder: TextEncoder): Uint8Array | string {
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_FRAME_EVENTS) {
    return `a frame carries 1..${MAX_FRAME_EVENTS} events`;
  }
  let bound = 0;
  for (const e of events) {
    if (typeof e !== 'string' || !isWellFormedString(e) || e.includes('\r')) {
      return 'each event must be a well-formed string without CR';
    }
    bound += 4 + e.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 code unit
  }
  const out = new Uint8Array(Math.min(bound, MAX_FRAME_BYTES + 3));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of events) {
    if (out.length - at < 4) return `a frame carries at most ${MAX_FRAME_BYTES} bytes`;
    const { read, written } = encoder.encodeInto(e, out.subarray(at + 4));
    if (read !== e.length) return `a frame carries at most ${MAX_FRAME_BYTES} bytes`;
    view.setUint32(at, written);
    at += 4 + written;
  }
  if (at > MAX_FRAME_BYTES) return `a frame carries at most ${MAX_FRAME_BYTES} bytes`;
  return out.subarray(0, at);
}

/**
 * A verified frame's events, as views into `pt` (no copies); the reason instead when `pt` is not
 * 1..MAX_FRAME_EVENTS well-formed events consumed exactly. Work is linear in `pt`, which the opener
 * has already bounded by MAX_FRAME_BYTES.
 */
export function decodeEvents(pt: Uint8Array): Uint8Array[] | string {
  const view = new DataView(pt.buffer, pt.byteOffset, pt.byteLength);
  const events: Uint8Array[] = [];
  let at = 0;
  while (at < pt.length) {
    if (events.length === MAX_FRAME_EVENTS) return `a frame carries at most ${MAX_FRAME_EVENTS} events`;
    if (pt.length - at < 4) return 'an event length is cut';
    const length = view.getUint32(at);
    at += 4;
    if (length > pt.length - at) return 'an event runs past its frame';
    const event = pt.subarray(at, at + length);
    at += length;
    const bad = eventProblem(event);
    if (bad) return bad;
    events.push(event);
  }
  return events.length === 0 ? 'a frame carries no event' : events;
}

/**
 * Why `bytes` is not one SSE data payload: CR, or not well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF, no cut sequence; Unicode 15 table 3-7). One pass, ASCII first.
 */
export function eventProblem(bytes: Uint8Array): string | undefined {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      if (b === CR) return 'an event contains CR';
      i++;
      continue;
    }
    const width = sequenceWidth(bytes, i);
    if (width === 0) return 'an event is not well-formed UTF-8';
    i += width;
  }
  return undefined;
}

/** Length of the well-formed multi-byte sequence at `i` (lead byte ≥ 0x80), or 0 (table 3-7). */
function sequenceWidth(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  const c1 = bytes[i + 1] ?? 0;
  const cont = (k: number) => ((bytes[i + k] ?? 0) & 0xc0) === 0x80;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    // E0: A0..BF (no overlong); ED: 80..9F (no surrogates).
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return c1 >= lo && c1 <= hi && cont(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    // F0: 90..BF (no overlong); F4: 80..8F (nothing above U+10FFFF).
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return c1 >= lo && c1 <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0; // 80..C1 (continuation, overlong lead), F5..FF
}
