/**
 * Ablation stand-in for src/gateway/app.ts (`gateway-passthrough`): the gateway's Hono app is built
 * (its code loaded, its objects alive in the isolate) but every request is served as the plaintext
 * passthrough serves it (bench/workerd/passthrough.ts: body read as text, one fetch to the model
 * server at `ABLATE_UPSTREAM`, the upstream body handed on natively). Whether the gateway's isolate
 * alone — a larger bundle and heap — costs CPU per request. Measurement only.
 */
import { createGatewayApp as createRealApp } from '../../../src/gateway/app.js';
import type { GatewayDeps } from '../../../src/gateway/app-env.js';

export function createGatewayApp(deps: GatewayDeps) {
  const real = createRealApp(deps);
  return {
    real,
    async fetch(request: Request, env: { ABLATE_UPSTREAM: string }): Promise<Response> {
      const body = await request.text();
      const upstream = await fetch(`${env.ABLATE_UPSTREAM}${new URL(request.url).pathname}`, {
        method: 'POST',
        headers: { 'content-type': request.headers.get('content-type') ?? 'application/json' },
        body,
      });
      return new Response(upstream.body, {
        status: upstream.status,
        headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
      });
    },
  };
}
