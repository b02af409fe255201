/**
 * What the verification routes (attestation.ts, manifest-history.ts, verification-page.ts) get from
 * the gateway app: the request, the bindings, the checked configuration and the upstream `fetch`.
 * They are PUBLIC — no API key: they carry verification data only, never prompt data
 * (docs/verifiability.md "Who may call them").
 */
import type { Fetcher } from '../../../service-client/http.js';
import type { DurableObjectNamespace, ExecutionContextLike } from '../../cf-types.js';
import type { GatewayConfig, GatewayEnv } from '../../config.js';
import type { AttestationRateLimit } from '../../durable-objects/attestation-rate-limit.js';
import type { ManifestLog } from '../../durable-objects/manifest-log.js';

export interface VerificationEnv extends GatewayEnv {
  /** Durable Object: the per-client token bucket of `GET /v1/attestation` (durable-objects/attestation-rate-limit.ts). */
  ATTESTATION_RATE_LIMIT?: DurableObjectNamespace<AttestationRateLimit>;
  /** Durable Object: the hash-chained manifest history (durable-objects/manifest-log.ts). */
  MANIFEST_LOG?: DurableObjectNamespace<ManifestLog>;
  /** Fresh attestations per client per minute (default 10). */
  ATTESTATION_RATE_PER_MINUTE?: string;
}

export interface RouteContext {
  request: Request;
  env: VerificationEnv;
  config: GatewayConfig;
  fetch: Fetcher;
  ctx?: ExecutionContextLike;
}

export type RouteHandler = (rc: RouteContext) => Promise<Response>;
