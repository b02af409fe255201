/** Ablation stand-in for src/envelope/request.ts (`seal×8`): every request sealed REPEAT times. */
import { type SealRequestInput, sealRequest as sealOnce } from '../../../src/envelope/request.js';
import { repeated } from './repeat.js';

export * from '../../../src/envelope/request.js';

export function sealRequest(input: SealRequestInput): ReturnType<typeof sealOnce> {
  return repeated(() => sealOnce(input));
}
