/**
 * Ablation stand-in for src/http/read-limited.ts (`read`): the body read whole by the runtime
 * (`Response.arrayBuffer()`), not chunk by chunk in JavaScript with a running count. Measurement only.
 */
export * from '../../../src/http/read-limited.js';

export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  _contentLength: string | null,
  _max: number,
  _drain = 0,
): Promise<Uint8Array | null> {
  return body ? new Uint8Array(await new Response(body).arrayBuffer()) : new Uint8Array(0);
}
