/**
 * Ablation stand-in for src/envelope/response.ts (`decrypt`): the answer is not opened — no HKDF,
 * AES-GCM open or JSON parse — and the client gets a constant object (so no large stringify
 * either). The receipt is still checked over the bytes received. Measurement only.
 */
import type { RequestContext } from '../../../src/envelope/data-key.js';

export * from '../../../src/envelope/response.js';

export async function openResponse(
  _context: RequestContext,
  _sealed: unknown,
): Promise<Record<string, unknown>> {
  return { object: 'ablated' };
}
