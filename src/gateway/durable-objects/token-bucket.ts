/**
 * The token bucket of the attestation rate limit (attestation-rate-limit.ts), pure: one bucket
 * per client,
 *
 *   capacity = ATTESTATION_RATE_PER_MINUTE (default 10), refill = capacity per 60 s,
 *
 * and the client a request counts against (the `cf-connecting-ip` Cloudflare sets; one shared
 * bucket "unknown" where it is absent, e.g. locally).
 */
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
  const perMs = capacity / 60_000;
  const start = bucket ?? { tokens: capacity, updatedMs: now };
  const tokens = Math.min(capacity, start.tokens + Math.max(0, now - start.updatedMs) * perMs);
  if (tokens >= 1)
    return {
      bucket: { tokens: tokens - 1, updatedMs: now },
      take: { ok: true, remaining: Math.floor(tokens - 1) },
    };
  return {
    bucket: { tokens, updatedMs: now },
    take: { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) },
  };
}

export function clientId(request: Request): string {
  const ip = request.headers.get('cf-connecting-ip')?.trim();
  return ip && ip.length <= 64 ? `ip:${ip}` : 'ip:unknown';
}
