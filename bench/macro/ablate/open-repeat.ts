/**
 * Ablation stand-in for src/envelope/response.ts (`open×8`): every answer opened REPEAT times
 * (HKDF, AES-GCM open, JSON parse).
 */
import type { RequestContext } from '../../../src/envelope/data-key.js';
import { openResponse as openOnce } from '../../../src/envelope/response.js';
import { repeated } from './repeat.js';

export * from '../../../src/envelope/response.js';

export function openResponse(context: RequestContext, sealedInput: unknown): ReturnType<typeof openOnce> {
  return repeated(() => openOnce(context, sealedInput));
}
