/**
 * What the gateway's Hono app and its sub-apps share: the Worker bindings, and the per-request
 * variables the configuration middleware (middleware/gateway-config.ts) sets before any route runs.
 */
import type { Fetcher } from '../service-client/http.js';
import type { GatewayConfig, GatewayEnv } from './config.js';
import type { KeyLimits } from './limits/key-limits.js';
import type { UsageMeter } from './limits/usage-meter.js';

export interface GatewayDeps {
  /** How the gateway reaches the AI workers (the global `fetch` in production). */
  fetch: Fetcher;
}

export type AppVars = {
  /** The checked configuration (config.ts). */
  config: GatewayConfig;
  /** Headers every answer carries: `x-sealgate-manifest`, and `x-sealgate-simulated` when simulated. */
  sealgateHeaders: Record<string, string>;
  /** SHA-256 (hex) of the request's accepted API key, set by `requireApiKey` on `/v1/*`. */
  apiKeyHash: string;
  /** The accepted key's limits (its KV entry), null for none; set with `apiKeyHash`. */
  apiKeyLimits: KeyLimits | null;
  /** On a sealed route of a metered key: counts the answer's tokens (limits/enforce-limits.ts). */
  usageMeter?: UsageMeter;
};

export type AppEnv = { Bindings: GatewayEnv; Variables: AppVars };
