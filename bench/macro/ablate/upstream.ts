/**
 * Ablation stand-in for src/gateway/sealing/upstream.ts (`open`): the worker's sealed JSON goes to
 * the client as it came, natively — not read into JavaScript, hashed, receipt-checked, decrypted,
 * parsed and serialised again. Measurement only (the client gets ciphertext).
 */
import type { Exchange } from '../../../src/gateway/sealing/upstream.js';

export * from '../../../src/gateway/sealing/upstream.js';

export async function openJsonAnswer(
  answer: Extract<Exchange, { kind: 'answer' }>,
  headers: Record<string, string>,
): Promise<Response> {
  return new Response(answer.response.body, {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}
