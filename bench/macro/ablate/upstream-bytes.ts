/**
 * Ablation stand-in for src/gateway/sealing/upstream.ts (`answer-read`): the worker's sealed JSON
 * read whole into JavaScript (`arrayBuffer()`, as openJsonAnswer reads it) and sent on as those
 * bytes — no receipt, no opening, no re-serialisation. Against `open` (the body handed on natively):
 * what reading the answer costs. Measurement only (the client gets ciphertext).
 */
import type { Exchange } from '../../../src/gateway/sealing/upstream.js';

export * from '../../../src/gateway/sealing/upstream.js';

export async function openJsonAnswer(
  answer: Extract<Exchange, { kind: 'answer' }>,
  headers: Record<string, string>,
): Promise<Response> {
  const bytes = new Uint8Array(await answer.response.arrayBuffer());
  return new Response(bytes, {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}
