/**
 * The token bucket of the attestation rate limit (attestation-rate-limit.ts), pure: one bucket
 * per client,
 *
 *   capacity = ATTESTATION_RATE_PER_MINUTE (default 10), refill = capacity per 60 s,
 *
 * and the client a request counts against: the `cf-connecting-ip` Cloudflare sets, an IPv6 address
 * by its /64 (src/http/client-address.ts: one host routinely holds a whole /64, and a bucket per
 * address would give it 2^64 buckets); one shared bucket "unknown" where it is absent, e.g. locally.
 */
import { clientAddressGroup } from '../../http/client-address.js';

export const DEFAULT_ATTESTATIONS_PER_MINUTE = 10;

export interface Bucket {
  tokens: number;
  updatedMs: number;
}

export type Take = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number };

/** The bucket after `elapsedMs` and one take (pure; the DO persists it). */
export function takeToken(
  bucket: Bucket | undefined,
  capacity: number,
  now: number,
): { bucket: Bucket; take: Take } {
  const tokens = refilled(bucket, capacity, now);
  if (tokens >= 1)
    return {
      bucket: { tokens: tokens - 1, updatedMs: now },
      take: { ok: true, remaining: Math.floor(tokens - 1) },
    };
  return {
    bucket: { tokens, updatedMs: now },
    take: { ok: false, retryAfterSeconds: secondsToOneToken(tokens, capacity) },
  };
}

/** Seconds until `bucket` holds a whole token again; 0 when it holds one now (takes nothing). */
export function retryAfterSeconds(bucket: Bucket | undefined, capacity: number, now: number): number {
  const tokens = refilled(bucket, capacity, now);
  return tokens >= 1 ? 0 : secondsToOneToken(tokens, capacity);
}

/** When `bucket` is full again (ms), refilled at `capacity` per 60 s: from then it is as none at all. */
export function fullAtMs(bucket: Bucket, capacity: number): number {
  return bucket.updatedMs + Math.ceil((capacity - bucket.tokens) / (capacity / 60_000));
}

/** The tokens of `bucket` at `now`: refilled at `capacity` per 60 s, never above `capacity`. */
function refilled(bucket: Bucket | undefined, capacity: number, now: number): number {
  if (bucket === undefined) return capacity;
  return Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.updatedMs) * (capacity / 60_000));
}

function secondsToOneToken(tokens: number, capacity: number): number {
  return Math.max(1, Math.ceil((1 - tokens) / (capacity / 60_000) / 1000));
}

export function clientId(request: Request): string {
  const ip = request.headers.get('cf-connecting-ip')?.trim();
  return ip && ip.length <= 64 ? `ip:${clientAddressGroup(ip)}` : 'ip:unknown';
}
