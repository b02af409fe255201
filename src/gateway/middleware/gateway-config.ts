/**
 * Configuration first (docs/architecture.md "Fail closed"): a gateway whose configuration does not
 * hold (config.ts) serves nothing but a typed 503. Otherwise the checked configuration is the
 * request's `config`, and every answer gets the `sealgateHeaders` (`x-sealgate-manifest`, and
 * `x-sealgate-simulated: 1` when the manifest trusts the simulator).
 */
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../../http/errors.js';
import type { AppEnv } from '../app-env.js';
import { loadConfig } from '../config.js';
import { log } from '../log.js';

export function gatewayConfig(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const loaded = await loadConfig(c.env);
    if (!loaded.ok) {
      log('error', 'gateway_misconfigured', { reason: loaded.reason });
      return errorResponse('no_attested_service', 'the gateway is not configured to serve');
    }
    const { config } = loaded;
    c.set('config', config);
    c.set('sealgateHeaders', {
      'x-sealgate-manifest': config.manifestDigest,
      ...(config.simulated ? { 'x-sealgate-simulated': '1' } : {}),
    });
    await next();
    for (const [k, v] of Object.entries(c.get('sealgateHeaders'))) c.res.headers.set(k, v);
  };
}
