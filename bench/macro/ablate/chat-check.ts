/**
 * Ablation stand-in for src/api/stream-end.ts (`chat-check`): a verified chat event is not parsed
 * to check that it is a JSON chunk without an in-band error (the relay's per-event JSON.parse).
 * Measurement only.
 */
export * from '../../../src/api/stream-end.js';

export function isChatChunk(_data: string): boolean {
  return true;
}
