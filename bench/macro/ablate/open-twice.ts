/**
 * Ablation stand-in for src/envelope/response.ts (`open×2`): every answer opened twice (HKDF,
 * AES-GCM open, JSON parse), the first result thrown away — the delta is one opening's cost in
 * place. Measurement only.
 */
import type { RequestContext } from '../../../src/envelope/data-key.js';
import { openResponse as openOnce } from '../../../src/envelope/response.js';

export * from '../../../src/envelope/response.js';

export async function openResponse(
  context: RequestContext,
  sealedInput: unknown,
): ReturnType<typeof openOnce> {
  await openOnce(context, sealedInput);
  return await openOnce(context, sealedInput);
}
