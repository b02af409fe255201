/**
 * The budgets of the routes whose every answer costs the service a hardware report or a signature
 * (`POST /v1/attestation`, a signed `GET /v1/keys?nonce=`), each route with budgets of its own: a
 * request whose `sealgate-gateway-auth` verifies for its nonce draws from the pinned gateway's own
 * budget — its rotation's, or the one of its calls for public callers' nonces (the label signed
 * says which: keys/attestation-request-auth.ts) — any other from the caller's and the global one (rate-limit.ts, docs/threat-model.md
 * "Bounded tables").
 */
import { errorResponse } from '../http/errors.js';
import { GATEWAY_AUTH_HEADER, gatewayRequestKind } from '../keys/attestation-request-auth.js';
import type { AttestationLimiter } from './rate-limit.js';
import type { ServiceRuntime } from './runtime.js';

/**
 * Null when the request may go on; else the `429 rate_limited` to answer. `limiter`: the route's
 * own budgets (attestations and key lists do not draw from each other).
 */
export async function attestationBudget(
  rt: ServiceRuntime,
  limiter: AttestationLimiter,
  req: Request,
  caller: string | null,
  nonce: Uint8Array,
): Promise<Response | null> {
  const { gatewayKey, kekContext } = await rt.ready;
  const nowMs = rt.deps.now().getTime();
  const kind = gatewayRequestKind(
    req.headers.get(GATEWAY_AUTH_HEADER),
    gatewayKey,
    kekContext,
    nonce,
    rt.nowSeconds(),
  );
  const allowed =
    kind === 'rotation'
      ? limiter.allowGateway(nowMs)
      : kind === 'public'
        ? limiter.allowGatewayPublic(nowMs)
        : limiter.allowAnonymous(caller, nowMs);
  if (allowed) return null;
  rt.deps.log('warn', 'attestation_rate_limited', { caller, gateway: kind });
  return errorResponse('rate_limited', 'too many attestation requests, retry later', {
    headers: { 'retry-after': '1' },
  });
}
