/**
 * The budget of the key writes, `POST /v1/keys` (a KEK upload) and `POST /v1/keys/retire`: only the
 * pinned gateway's signed calls change the key set (key-routes.ts), and they draw from a token
 * bucket of their own (DEFAULT_KEY_WRITE_LIMITS: 6 a minute, a burst of 32 — what the gateway's
 * rotation needs, with room). Past it: `429 rate_limited` with `retry-after` (RFC 9110 §10.2.3) in
 * whole seconds until the next token; the gateway's rotation retries no sooner.
 *
 * Spent once the call's Ed25519 signature verified under the pinned gateway key, and before
 * anything is opened (the upload's HPKE) or the store changes. Not before the signature check: the
 * check is what tells the gateway from anyone else, and a budget anyone could spend — per TCP peer,
 * when the gateway reaches the service from Cloudflare's egress addresses, shared with every other
 * Worker (docs/threat-model.md "What a caller is") — would let any other Worker stop the gateway's
 * rotation. A call whose signature does not verify is refused (`gateway_unauthenticated`) at the
 * cost of that check, as a `POST /v1/attestation` with a forged `sealgate-gateway-auth` header is;
 * what the budget bounds is the work after it: a recorded, authentic upload replayed is opened and
 * checked against the store again on each call.
 */
import { errorResponse } from '../http/errors.js';
import type { ServiceRuntime } from './runtime.js';

/** Null when the key write may go on; else the `429 rate_limited` to answer. */
export function keyWriteBudget(rt: ServiceRuntime, route: '/v1/keys' | '/v1/keys/retire'): Response | null {
  const nowMs = rt.deps.now().getTime();
  if (rt.keyWrites.take(nowMs)) return null;
  const retryAfter = Math.max(1, rt.keyWrites.secondsUntilToken(nowMs));
  rt.deps.log('warn', 'key_write_rate_limited', { route, retryAfter });
  return errorResponse('rate_limited', 'too many key writes, retry later', {
    headers: { 'retry-after': String(retryAfter) },
  });
}
