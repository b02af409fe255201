/**
 * Rate limit of `GET /v1/attestation` and the verification page (docs/verifiability.md): each call
 * makes the attestation service ask its hardware for a fresh report, so one client must not be
 * able to keep it busy. A token bucket per client (the `cf-connecting-ip` Cloudflare sets, IPv6 by
 * its /64; one shared bucket "unknown" where it is absent, e.g. locally), kept in a small Durable
 * Object per client — `idFromName("ip:<address>")` — so every edge instance counts against the
 * same bucket and the read-modify-write is serialized by the object (no lost updates, unlike KV).
 *
 *   capacity = ATTESTATION_RATE_PER_MINUTE (default 10), refill = capacity per 60 s.
 *
 * Invariant: an object holds storage only while its bucket is below capacity. A full bucket is the
 * same as none (token-bucket.ts `refilled`), so the alarm set for the moment the bucket is full
 * again deletes it: every client that ever called leaves no state behind once its bucket refilled.
 */
import { DurableObject } from 'cloudflare:workers';
import type { DurableObjectNamespace } from '../cf-types.js';
import { nowMs } from '../clock.js';
import { type Bucket, clientId, fullAtMs, type Take, takeToken } from './token-bucket.js';

export class AttestationRateLimit extends DurableObject {
  /** Takes one token of this client's bucket of `capacity` per minute. */
  async take(capacity: number): Promise<Take> {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('bad capacity');
    const s = this.ctx.storage;
    const { bucket, take } = takeToken(await s.get<Bucket>('bucket'), capacity, nowMs());
    const fullAt = fullAtMs(bucket, capacity);
    await s.put('bucket', bucket);
    await s.put('fullAt', fullAt);
    await s.setAlarm(fullAt);
    return take;
  }

  /** Forgets the bucket once it is full again (a full bucket is a fresh one); else waits on. */
  async alarm(): Promise<void> {
    const s = this.ctx.storage;
    const fullAt = await s.get<number>('fullAt');
    if (fullAt !== undefined && nowMs() < fullAt) await s.setAlarm(fullAt);
    else await s.deleteAll();
  }
}

/** One token of the caller's bucket (`ns` is the ATTESTATION_RATE_LIMIT binding). */
export function takeAttestationToken(
  ns: DurableObjectNamespace<AttestationRateLimit>,
  request: Request,
  perMinute: number,
): Promise<Take> {
  return ns.get(ns.idFromName(clientId(request))).take(perMinute);
}
