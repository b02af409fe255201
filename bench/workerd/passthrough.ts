/**
 * The plaintext baseline: a minimal passthrough Worker (run under `wrangler dev` by bench/run.ts,
 * config bench/workerd/passthrough.toml) that forwards the plain OpenAI request to UPSTREAM (the
 * benchmark's model server) and streams the answer back unchanged — what a gateway without sealing
 * costs, on the same runtime, machine and model server as the sealed path. Under `/hop/…` it forwards
 * to UPSTREAM_HOP instead (a plaintext Node hop in front of the same model server).
 */
interface Env {
  UPSTREAM: string;
  /** A plaintext Node hop in front of the same model server (bench/macro/node-hop.ts), under /hop/…. */
  UPSTREAM_HOP?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return Response.json({ status: 'ok' });
    const body = request.method === 'POST' ? await request.text() : undefined;
    const hop = url.pathname.startsWith('/hop/') && env.UPSTREAM_HOP;
    const target = hop ? `${env.UPSTREAM_HOP}${url.pathname.slice(4)}` : `${env.UPSTREAM}${url.pathname}`;
    const upstream = await fetch(target, {
      method: request.method,
      headers: { 'content-type': request.headers.get('content-type') ?? 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
    return new Response(upstream.body, {
      status: upstream.status,
      headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
    });
  },
};
