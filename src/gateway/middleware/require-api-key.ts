/**
 * The API key (RFC 6750 Bearer) on every `/v1/*` route except the public verification routes,
 * which carry verification data only, never prompt data (docs/verifiability.md). On
 * `/v1/messages` the key may come as Anthropic's SDKs send it, in `x-api-key`; a request that
 * carries a Bearer token is judged by that token alone.
 */
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../../http/errors.js';
import type { AppEnv } from '../app-env.js';
import { bearerToken, isValidApiKey, xApiKey } from '../kv/api-keys.js';
import { VERIFICATION_ROUTES } from '../routes/verification/verification-routes.js';

export function requireApiKey(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (VERIFICATION_ROUTES[c.req.path]) return next();
    const authorization = c.req.header('authorization');
    const key =
      authorization === undefined && c.req.path === '/v1/messages'
        ? xApiKey(c.req.header('x-api-key'))
        : bearerToken(authorization);
    if (!(await isValidApiKey(c.env, key))) {
      return errorResponse('invalid_api_key', 'missing or invalid API key', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    await next();
  };
}
