/**
 * The gateway's configuration for a development stack on SIMULATED hardware: the values to pass to
 * `wrangler dev` (`--var NAME:value` each) or to miniflare's `bindings`. Runtime-neutral; used by
 * the gateway's workerd tests (vitest.gateway.config.ts) and meant for `npm start`.
 *
 *   const vars = gatewayDevVars({ manifestText: env.manifestText, serviceUrl, workerUrls, ... });
 *   spawn('npx', ['wrangler', 'dev', ...wranglerVarArgs(vars)])
 *
 * The dev manifest trusts the simulator's root, so SEALGATE_ALLOW_SIMULATED is "1" here — and only
 * here; every answer of such a gateway carries `x-sealgate-simulated: 1`.
 */
import { toBase64Url } from '../bytes.js';

export interface DevVarsInput {
  /** The exact manifest text the services run (`DevelopmentEnvironment.manifestText`). */
  manifestText: string;
  serviceUrl: string;
  workerUrls: readonly string[];
  /** Default: a fresh random key (base64url of 32 bytes). Not a production secret store. */
  gatewaySecret?: string;
  /** An API key the dev gateway accepts; default none (then only KV `apikey:` entries). */
  devApiKey?: string;
  corsOrigins?: readonly string[];
}

export function gatewayDevVars(input: DevVarsInput): Record<string, string> {
  return {
    SEALGATE_MANIFEST: input.manifestText,
    SEALGATE_ALLOW_SIMULATED: '1',
    GATEWAY_SECRET: input.gatewaySecret ?? toBase64Url(crypto.getRandomValues(new Uint8Array(32))),
    ATTESTATION_SERVICE_URL: input.serviceUrl,
    WORKER_URLS: input.workerUrls.join(','),
    ...(input.devApiKey ? { DEV_API_KEY: input.devApiKey } : {}),
    CORS_ORIGINS: (input.corsOrigins ?? []).join(','),
  };
}

/** `--var NAME:value` arguments for `wrangler dev` (one argv entry per value, no shell quoting). */
export function wranglerVarArgs(vars: Record<string, string>): string[] {
  return Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
}
