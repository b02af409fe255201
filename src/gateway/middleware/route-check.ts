/**
 * 404 and 405 (RFC 9110 §15.5.5, §15.5.6: with `Allow`) before authentication: they say nothing an
 * unauthenticated caller could not guess. The table is every route the gateway serves.
 */
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../../http/errors.js';
import { MODEL_ROUTES } from '../../model/types.js';
import type { AppEnv } from '../app-env.js';
import { isModelPath } from '../routes/models.js';
import { isReceiptPath } from '../routes/receipts.js';
import { VERIFICATION_ROUTES } from '../routes/verification/verification-routes.js';

const ROUTES: Record<string, string> = {
  ...Object.fromEntries(MODEL_ROUTES.map((path) => [path, 'POST'])),
  '/v1/models': 'GET',
  '/healthz': 'GET',
  '/readyz': 'GET',
  ...Object.fromEntries(Object.keys(VERIFICATION_ROUTES).map((path) => [path, 'GET'])),
};

export function routeCheck(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method =
      ROUTES[c.req.path] ?? (isReceiptPath(c.req.path) || isModelPath(c.req.path) ? 'GET' : undefined);
    if (method === undefined) return errorResponse('not_found', `no route ${c.req.path}`);
    // RFC 9110 §9.3.2: HEAD is GET without the content (Hono routes it to the GET handler and
    // drops the body); a general-purpose server must support it (§9.1).
    const allowed = c.req.method === method || (method === 'GET' && c.req.method === 'HEAD');
    if (!allowed) {
      return errorResponse('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}`, {
        headers: { allow: method === 'GET' ? 'GET, HEAD' : method },
      });
    }
    await next();
  };
}
