/**
 * Ablation stand-in for src/gateway/routes/sealed/read-json-body.ts (`body`): the runtime's
 * `request.json()` instead of the counted read, the fatal UTF-8 decode, the shape walk and the
 * content-type and `model` checks. Measurement only.
 */
export * from '../../../src/gateway/routes/sealed/read-json-body.js';

type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

export async function readJsonBody(request: Request, _maxBytes: number): Promise<BodyResult> {
  return { ok: true, value: (await request.json()) as Record<string, unknown> };
}
