/**
 * Rate limit of `GET /v1/attestation` and the verification page (docs/verifiability.md): each call
 * makes the attestation service ask its hardware for a fresh report, so one client must not be
 * able to keep it busy. A token bucket per client (the `cf-connecting-ip` Cloudflare sets; one
 * shared bucket "unknown" where it is absent, e.g. locally), kept in a small Durable Object per
 * client — `idFromName("ip:<address>")` — so every edge instance counts against the same bucket and
 * the read-modify-write is serialized by the object (no lost updates, unlike KV).
 *
 *   capacity = ATTESTATION_RATE_PER_MINUTE (default 10), refill = capacity per 60 s.
 */
import type { DurableObjectNamespaceLike, DurableObjectStateLike } from './cf-types.js';
import { nowMs } from './clock.js';

export const DEFAULT_ATTESTATIONS_PER_MINUTE = 10;

interface Bucket {
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

export class AttestationRateLimit {
  readonly #state: DurableObjectStateLike;

  constructor(state: DurableObjectStateLike, _env: unknown) {
    this.#state = state;
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== 'POST' || url.pathname !== '/take')
      return new Response('not found', { status: 404 });
    const capacity = Number(url.searchParams.get('capacity'));
    if (!Number.isSafeInteger(capacity) || capacity < 1) return new Response('bad capacity', { status: 400 });
    const s = this.#state.storage;
    const { bucket, take } = takeToken(await s.get<Bucket>('bucket'), capacity, nowMs());
    await s.put('bucket', bucket);
    return Response.json(take);
  }
}

export function clientId(request: Request): string {
  const ip = request.headers.get('cf-connecting-ip')?.trim();
  return ip && ip.length <= 64 ? `ip:${ip}` : 'ip:unknown';
}

export async function takeAttestationToken(
  ns: DurableObjectNamespaceLike,
  request: Request,
  perMinute: number,
): Promise<Take> {
  const stub = ns.get(ns.idFromName(clientId(request)));
  const res = await stub.fetch(`https://rate-limit/take?capacity=${perMinute}`, { method: 'POST' });
  if (!res.ok) throw new Error(`rate limiter answered ${res.status}`);
  return (await res.json()) as Take;
}
