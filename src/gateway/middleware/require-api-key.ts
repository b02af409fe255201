/**
 * The API key (RFC 6750 Bearer) on every `/v1/*` route except the public verification routes,
 * which carry verification data only, never prompt data (docs/verifiability.md). On
 * `/v1/messages` and `/v1/models` (and `/{model}`) the key may come as Anthropic's SDKs send it,
 * in `x-api-key`; a request that carries a Bearer token is judged by that token alone. A client
 * that failed too often is
 * answered 429 before its key is looked at (auth-throttle.ts). The accepted key's SHA-256 (hex) is
 * the request's `apiKeyHash`: what owns the receipts it makes; the key's limits (KV entry) are
 * `apiKeyLimits`, enforced on the sealed routes (limits/enforce-limits.ts).
 */
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../../http/errors.js';
import type { AppEnv } from '../app-env.js';
import { nowMs } from '../clock.js';
import { acceptedApiKey, bearerToken, xApiKey } from '../kv/api-keys.js';
import { isModelPath } from '../routes/models.js';
import { VERIFICATION_ROUTES } from '../routes/verification/verification-routes.js';
import { authRetryAfterSeconds, recordAuthFailure } from './auth-throttle.js';

/** The routes Anthropic's SDKs call: their key comes in `x-api-key`. */
function takesXApiKey(path: string): boolean {
  return path === '/v1/messages' || path === '/v1/models' || isModelPath(path);
}

export function requireApiKey(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (VERIFICATION_ROUTES[c.req.path]) return next();
    const wait = authRetryAfterSeconds(c.req.raw, nowMs());
    if (wait > 0) {
      return errorResponse('rate_limited', 'too many failed API key attempts from this client', {
        headers: { 'retry-after': String(wait) },
      });
    }
    const authorization = c.req.header('authorization');
    const key =
      authorization === undefined && takesXApiKey(c.req.path)
        ? xApiKey(c.req.header('x-api-key'))
        : bearerToken(authorization);
    const accepted = await acceptedApiKey(c.env, key);
    if (accepted === null) {
      recordAuthFailure(c.req.raw, nowMs());
      return errorResponse('invalid_api_key', 'missing or invalid API key', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    c.set('apiKeyHash', accepted.hash);
    c.set('apiKeyLimits', accepted.limits);
    await next();
  };
}
