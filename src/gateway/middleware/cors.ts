/**
 * CORS (Fetch standard, "CORS protocol"): only the origins of `CORS_ORIGINS` (comma-separated, or
 * "*"); none when it is empty. The `x-sealgate-*` headers are exposed so a browser client can read
 * the manifest digest, key id, simulation flag and receipt id; and the rate-limit headers
 * (limits/limit-headers.ts), `retry-after` and `x-should-retry`, which the SDKs' retry logic reads
 * (none is CORS-safelisted).
 */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../app-env.js';
import { LIMIT_HEADER_NAMES } from '../limits/limit-headers.js';

export function corsMiddleware(): MiddlewareHandler<AppEnv> {
  return cors({
    origin: (origin, c) => {
      const allowed = (c.env.CORS_ORIGINS ?? '').split(',').map((s: string) => s.trim());
      if (allowed.includes('*')) return '*';
      return allowed.includes(origin) ? origin : null;
    },
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: [
      'authorization',
      'content-type',
      'openai-organization',
      'openai-project',
      'x-api-key',
      'anthropic-version',
      'anthropic-beta',
    ],
    exposeHeaders: [
      'x-sealgate-manifest',
      'x-sealgate-key-id',
      'x-sealgate-simulated',
      'x-sealgate-receipt',
      'retry-after',
      'x-should-retry',
      ...LIMIT_HEADER_NAMES,
    ],
    maxAge: 600,
  });
}
