/**
 * The gateway's OpenAI-compatible HTTP API (Hono on workerd), composed from its parts:
 *
 *   POST /v1/chat/completions   sealed to a worker; JSON or SSE (stream: true)     routes/sealed/
 *   POST /v1/completions        same
 *   POST /v1/embeddings         same (JSON)
 *   POST /v1/messages           Anthropic Messages (x-api-key or Bearer; Anthropic's error JSON)
 *   POST /v1/responses          OpenAI Responses
 *   POST /v1/audio/transcriptions  multipart/form-data, sealed whole
 *   GET  /v1/models             the workers' model list (plain routing data)       routes/models.ts
 *   GET  /v1/receipts/{id}      a receipt bundle                                   routes/receipts.ts
 *   GET  /healthz               {status, manifestDigest, simulated}; no API key    routes/health.ts
 *   GET  /readyz                200 once a sealed request can be served; no key    routes/readiness.ts
 *   GET  /, /v1/attestation[/nonce], /v1/manifest, /.well-known/jwks.json
 *                               verification; no API key                           routes/verification/
 *
 * Middleware, in order: CORS, the configuration (a broken one serves only a typed 503), 404/405,
 * the API key on `/v1/*`, the key's limits on the sealed routes (limits/). Every error — 404, 405, bad JSON, wrong content type, a body over the
 * limit, a missing or wrong API key — is OpenAI's error JSON with a code of src/http/errors.ts
 * (Anthropic's on `/v1/messages`, rewritten last by middleware/anthropic-errors.ts); every 503
 * carries `Retry-After`.
 * Every answer carries `x-sealgate-manifest` (the manifest digest) and, when the manifest trusts
 * the simulator, `x-sealgate-simulated: 1`; sealed answers also `x-sealgate-key-id`.
 */
import { Hono } from 'hono';
import { isSealgateError } from '../errors.js';
import { errorResponse } from '../http/errors.js';
import { MODEL_ROUTES } from '../model/types.js';
import type { AppEnv, GatewayDeps } from './app-env.js';
import { enforceLimits } from './limits/enforce-limits.js';
import { log } from './log.js';
import { anthropicErrors } from './middleware/anthropic-errors.js';
import { corsMiddleware } from './middleware/cors.js';
import { gatewayConfig } from './middleware/gateway-config.js';
import { requireApiKey } from './middleware/require-api-key.js';
import { routeCheck } from './middleware/route-check.js';
import { healthRoutes } from './routes/health.js';
import { modelsRoutes } from './routes/models.js';
import { readinessRoutes } from './routes/readiness.js';
import { receiptRoutes } from './routes/receipts.js';
import { sealedRoutes } from './routes/sealed/sealed-routes.js';
import { verificationRoutes } from './routes/verification/verification-routes.js';

export function createGatewayApp(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', corsMiddleware());
  app.use('/v1/messages/*', anthropicErrors()); // also /v1/messages itself, and count_tokens' 404
  app.use('/v1/models/*', anthropicErrors({ onlyFromAnthropicSdk: true })); // and /v1/models
  app.use('*', gatewayConfig());
  app.use('*', routeCheck());
  app.route('/', healthRoutes());
  app.route('/', readinessRoutes(deps));
  app.use('/v1/*', requireApiKey());
  for (const route of MODEL_ROUTES) app.use(route, enforceLimits());
  app.route('/', modelsRoutes(deps));
  app.route('/', verificationRoutes(deps));
  app.route('/', receiptRoutes());
  app.route('/', sealedRoutes(deps));
  app.notFound((c) => errorResponse('not_found', `no route ${c.req.path}`));
  app.onError((e) => {
    log('error', 'request_failed', { message: e.message, code: isSealgateError(e) ? e.code : 'internal' });
    return errorResponse('internal_error', 'internal error');
  });
  return app;
}
