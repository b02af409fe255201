/**
 * Ablation stand-in for src/gateway/sealing/stream-answer.ts (`stream-relay`): the worker's sealed
 * stream goes to the client as it came, pumped natively — no read in JavaScript, no frame opened,
 * no event checked or re-framed, no stream hash or receipt check, no write per read. What is left
 * is the request's path up to the answer's head. Measurement only (the client gets ciphertext).
 */
import type { Exchange } from '../../../src/gateway/sealing/upstream.js';

export * from '../../../src/gateway/sealing/stream-answer.js';

export function openStreamAnswer(
  answer: Extract<Exchange, { kind: 'answer' }>,
  headers: Record<string, string>,
): Response {
  return new Response(answer.response.body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}
