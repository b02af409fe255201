/**
 * The API key (RFC 6750 Bearer) on every `/v1/*` route except the public verification routes,
 * which carry verification data only, never prompt data (docs/verifiability.md).
 */
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../../http/errors.js';
import type { AppEnv } from '../app-env.js';
import { bearerToken, isValidApiKey } from '../kv/api-keys.js';
import { VERIFICATION_ROUTES } from '../routes/verification/verification-routes.js';

export function requireApiKey(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (VERIFICATION_ROUTES[c.req.path]) return next();
    if (!(await isValidApiKey(c.env, bearerToken(c.req.header('authorization'))))) {
      return errorResponse('invalid_api_key', 'missing or invalid API key', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    await next();
  };
}
