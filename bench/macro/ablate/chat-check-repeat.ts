/**
 * Ablation stand-in for src/api/stream-end.ts (`chat-check×8`): each verified chat event's JSON
 * check (isChatChunk: a JSON.parse) runs REPEAT times, so Δ / 7 is what checking every event of a
 * stream costs in place. Measurement only.
 */
import { isChatChunk as once } from '../../../src/api/stream-end.js';
import { REPEAT } from './repeat.js';

export * from '../../../src/api/stream-end.js';

export function isChatChunk(data: string): boolean {
  for (let i = 1; i < REPEAT; i++) once(data);
  return once(data);
}
