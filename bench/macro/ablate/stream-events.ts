/**
 * Ablation stand-in for src/envelope/stream-events.ts (`event-utf8`): a verified frame's events are
 * split without the per-byte UTF-8 and CR check (eventProblem). Measurement only.
 */
export * from '../../../src/envelope/stream-events.js';

export function decodeEvents(pt: Uint8Array): Uint8Array[] | string {
  const view = new DataView(pt.buffer, pt.byteOffset, pt.byteLength);
  const events: Uint8Array[] = [];
  for (let at = 0; at < pt.length; ) {
    const length = view.getUint32(at);
    events.push(pt.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return events;
}
