/**
 * Ablation stand-in for src/envelope/request.ts (`seal×2`): every request sealed twice, the first
 * sealing thrown away — the delta is one sealing's cost in place. Measurement only.
 */
import { type SealRequestInput, sealRequest as sealOnce } from '../../../src/envelope/request.js';

export * from '../../../src/envelope/request.js';

export async function sealRequest(input: SealRequestInput): ReturnType<typeof sealOnce> {
  await sealOnce(input);
  return await sealOnce(input);
}
