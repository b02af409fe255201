/**
 * Failed API-key attempts, throttled per client: a token bucket per client (the
 * `cf-connecting-ip` Cloudflare sets; one shared "unknown" client where it is absent, e.g.
 * locally) of FAILED_API_KEYS_PER_MINUTE tokens, refilled at that rate. Only a failure takes a
 * token; a client whose bucket is empty is answered 429 `rate_limited` with Retry-After BEFORE its
 * key is looked at, so a guesser learns nothing more until the bucket refills.
 *
 * Invariants: a request with a valid key never takes a token and never waits on anything here (no
 * I/O: the buckets live in the isolate); the map is bounded (MAX_CLIENTS, oldest dropped). The
 * count is per isolate: an attacker spread over many edge isolates gets this many guesses per
 * isolate per minute — against keys of ≥ 128 bits (docs/gateway.md "API keys") the bound is about
 * cost (each failure is a KV read), not about the keys' strength.
 */
import { type Bucket, clientId, retryAfterSeconds, takeToken } from '../durable-objects/token-bucket.js';

export const FAILED_API_KEYS_PER_MINUTE = 20;
const MAX_CLIENTS = 4096;
const buckets = new Map<string, Bucket>();

/** For tests: forget every client's failures. */
export function resetAuthThrottle(): void {
  buckets.clear();
}

/** Seconds until `request`'s client may present a key again; 0 when it may now. */
export function authRetryAfterSeconds(request: Request, now: number): number {
  return retryAfterSeconds(buckets.get(clientId(request)), FAILED_API_KEYS_PER_MINUTE, now);
}

/** Counts one failed attempt of `request`'s client. */
export function recordAuthFailure(request: Request, now: number): void {
  const id = clientId(request);
  const { bucket } = takeToken(buckets.get(id), FAILED_API_KEYS_PER_MINUTE, now);
  buckets.delete(id);
  if (buckets.size >= MAX_CLIENTS) buckets.delete(buckets.keys().next().value as string);
  buckets.set(id, bucket);
}
