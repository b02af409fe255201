/**
 * Ablation stand-in for src/gateway/app.ts (`hono`): no Hono — no router, no CORS, route check or
 * header middleware; one function does what the sealed route needs (configuration, API key, body,
 * sealed exchange) with the gateway's own modules. Serves only the sealed routes. Measurement only.
 */

import type { GatewayDeps } from '../../../src/gateway/app-env.js';
import type { ExecutionContextLike } from '../../../src/gateway/cf-types.js';
import { type GatewayEnv, loadConfig } from '../../../src/gateway/config.js';
import { acceptedApiKey, bearerToken } from '../../../src/gateway/kv/api-keys.js';
import { readJsonBody } from '../../../src/gateway/routes/sealed/read-json-body.js';
import { sealedExchange } from '../../../src/gateway/routes/sealed/sealed-exchange.js';
import { errorResponse } from '../../../src/http/errors.js';

export function createGatewayApp(deps: GatewayDeps) {
  return {
    async fetch(request: Request, env: GatewayEnv, ctx: ExecutionContextLike): Promise<Response> {
      const loaded = await loadConfig(env);
      if (!loaded.ok) return errorResponse('no_attested_service', loaded.reason);
      const { config } = loaded;
      const key = await acceptedApiKey(env, bearerToken(request.headers.get('authorization')));
      if (key === null) return errorResponse('invalid_api_key', 'missing or invalid API key');
      const body = await readJsonBody(request, config.maxBodyBytes);
      if (!body.ok) return body.response;
      return sealedExchange({
        env,
        config,
        headers: { 'x-sealgate-manifest': config.manifestDigest },
        owner: key.hash,
        route: new URL(request.url).pathname,
        body: body.value,
        signal: request.signal,
        fetch: deps.fetch,
        ctx,
      });
    },
  };
}
