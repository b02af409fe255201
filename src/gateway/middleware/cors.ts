/**
 * CORS (Fetch standard, "CORS protocol"): only the origins of `CORS_ORIGINS` (comma-separated, or
 * "*"); none when it is empty. The `x-sealgate-*` headers are exposed so a browser client can read
 * the manifest digest, key id, simulation flag, receipt id and kept receipt; and the rate-limit headers
 * (limits/limit-headers.ts), `retry-after` and `x-should-retry`, which the SDKs' retry logic reads
 * (none is CORS-safelisted).
 *
 * Preflights (OPTIONS) are hono/cors's. Every other request gets the same headers hono/cors would
 * give it (Access-Control-Allow-Origin when allowed, Access-Control-Expose-Headers, `Vary: Origin`),
 * but set once on the final response: hono/cors sets them on `c.res` before the handler runs,
 * which makes an empty Response that Hono then copies, headers and all, into the handler's — and
 * once more for `Vary` — three Response constructions per request, about a tenth of the gateway's
 * CPU per sealed request in a profile (docs/benchmarks.md).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { KEPT_RECEIPT_HEADER } from '../../receipts/kept-receipt.js';
import type { AppEnv } from '../app-env.js';
import { LIMIT_HEADER_NAMES } from '../limits/limit-headers.js';

/**
 * Request headers a page may send: ours, and every one the official SDKs (openai, @anthropic-ai/sdk)
 * send from a browser. A preflight that names a header not listed here fails in the browser, and
 * the SDK makes no call at all. The gateway reads none of the SDKs' own headers (it ignores them).
 */
export const ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'openai-organization',
  'openai-project',
  'x-api-key',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'user-agent',
  'x-stainless-arch',
  'x-stainless-helper',
  'x-stainless-helper-method',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
];
export const EXPOSE_HEADERS = [
  'x-sealgate-manifest',
  'x-sealgate-key-id',
  'x-sealgate-simulated',
  'x-sealgate-receipt',
  KEPT_RECEIPT_HEADER,
  'retry-after',
  'x-should-retry',
  ...LIMIT_HEADER_NAMES,
];
const EXPOSE = EXPOSE_HEADERS.join(',');

// CORS_ORIGINS split once per value, not once per request.
let parsed: { configured: string | undefined; allowed: readonly string[] } | undefined;

/** The allowed origin to echo ('*' when any is), or null: `CORS_ORIGINS` as configured. */
export function allowedOrigin(origin: string, configured: string | undefined): string | null {
  if (parsed === undefined || parsed.configured !== configured) {
    parsed = { configured, allowed: (configured ?? '').split(',').map((s: string) => s.trim()) };
  }
  const { allowed } = parsed;
  if (allowed.includes('*')) return '*';
  return allowed.includes(origin) ? origin : null;
}

function setCorsHeaders(headers: Headers, origin: string | null): void {
  if (origin) headers.set('access-control-allow-origin', origin);
  headers.set('access-control-expose-headers', EXPOSE);
  headers.append('vary', 'Origin');
}

/** Sets the headers on the handler's response; one with immutable headers (a fetch's) is copied. */
function decorate(c: Context<AppEnv>, origin: string | null): void {
  const res = c.res;
  try {
    setCorsHeaders(res.headers, origin);
  } catch {
    const copy = new Response(res.body, res);
    setCorsHeaders(copy.headers, origin);
    c.res = undefined;
    c.res = copy;
  }
}

export function corsMiddleware(): MiddlewareHandler<AppEnv> {
  const preflight = cors({
    origin: (origin, c) => allowedOrigin(origin, c.env.CORS_ORIGINS),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
  });
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    // Falsy (hono/cors: no header) for an empty origin that an empty CORS_ORIGINS "allows".
    const origin = allowedOrigin(c.req.header('origin') || '', c.env.CORS_ORIGINS) || null;
    await next();
    decorate(c, origin);
  };
}
