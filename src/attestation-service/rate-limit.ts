/**
 * Rate limits for `POST /v1/attestation`, whose every answer costs a hardware report (docs/
 * threat-model.md "Bounded tables"). Token buckets (capacity `burst`, refilled at `perSecond`):
 *
 * - gateway: calls signed by the pinned gateway key (attestation-request-auth.ts) draw from their
 *   own bucket only — anonymous callers cannot starve the gateway; its calls for public callers'
 *   nonces (`GET /v1/attestation`, the verification page: a separate label) from another, so
 *   public traffic, however spread, cannot spend the rotation's;
 * - anonymous: a per-caller bucket (the TCP peer address; see the threat model for what a "caller"
 *   is behind shared egress) AND a global bucket that caps the CPU all anonymous callers get.
 *
 * The per-caller map is bounded: a full bucket is the same as a fresh one, so full buckets are
 * dropped to make room; if every tracked caller is mid-burst, new callers share one overflow bucket
 * (they are still under the global cap). Clock in milliseconds, injected.
 */

export interface BucketSpec {
  perSecond: number;
  burst: number;
}

export interface AttestationLimits {
  global: BucketSpec;
  perCaller: BucketSpec;
  gateway: BucketSpec;
  /** The gateway's calls for public callers (rate-limited per client at the gateway first). */
  gatewayPublic: BucketSpec;
  maxCallers: number;
}

/**
 * The pinned gateway's key writes (`POST /v1/keys`, `POST /v1/keys/retire`; key-write-budget.ts).
 * Its rotation (src/gateway/durable-objects/key-rotation.ts) writes at most 1 retire, a re-upload
 * of each live key the service lost (≤ MAX_SERVICE_KEYS = 16, after a service restart) and 1 new
 * key per run, and runs once per rotation interval (≥ 60 s, manifest LIMITS), on a failure again
 * after 5 s, 10 s … 300 s (at most 2 writes each: the retire and the key not yet held). A burst of
 * 32 takes a restart's 18 writes and the failed runs after it; 6 a minute (one per 10 s) is more
 * than a failing rotation writes from its third retry on, and 6 times its steady 2 per minute
 * (test/attestation-service/key-write-budget.node.test.ts walks that path). A replayed upload is
 * opened at most that often.
 */
export const DEFAULT_KEY_WRITE_LIMITS: Readonly<BucketSpec> = Object.freeze({ perSecond: 0.1, burst: 32 });

export const DEFAULT_ATTESTATION_LIMITS: Readonly<AttestationLimits> = Object.freeze({
  global: { perSecond: 20, burst: 40 },
  perCaller: { perSecond: 1, burst: 5 },
  gateway: { perSecond: 5, burst: 20 },
  gatewayPublic: { perSecond: 5, burst: 20 },
  maxCallers: 4096,
});

export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly spec: BucketSpec,
    nowMs: number,
  ) {
    this.#tokens = spec.burst;
    this.#at = nowMs;
  }

  #refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.#at) / 1000;
    this.#tokens = Math.min(this.spec.burst, this.#tokens + elapsed * this.spec.perSecond);
    this.#at = Math.max(this.#at, nowMs);
  }

  /** True if a token was available now. */
  peek(nowMs: number): boolean {
    this.#refill(nowMs);
    return this.#tokens >= 1;
  }

  take(nowMs: number): boolean {
    if (!this.peek(nowMs)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whole seconds until a token is available (0: one is now). */
  secondsUntilToken(nowMs: number): number {
    if (this.peek(nowMs)) return 0;
    return Math.ceil((1 - this.#tokens) / this.spec.perSecond);
  }

  isFull(nowMs: number): boolean {
    this.#refill(nowMs);
    return this.#tokens >= this.spec.burst;
  }
}

export class AttestationLimiter {
  readonly #limits: AttestationLimits;
  readonly #global: TokenBucket;
  readonly #gateway: TokenBucket;
  readonly #gatewayPublic: TokenBucket;
  readonly #overflow: TokenBucket;
  readonly #callers = new Map<string, TokenBucket>();

  constructor(limits: AttestationLimits, nowMs: number) {
    this.#limits = limits;
    this.#global = new TokenBucket(limits.global, nowMs);
    this.#gateway = new TokenBucket(limits.gateway, nowMs);
    this.#gatewayPublic = new TokenBucket(limits.gatewayPublic, nowMs);
    this.#overflow = new TokenBucket(limits.perCaller, nowMs);
  }

  allowGateway(nowMs: number): boolean {
    return this.#gateway.take(nowMs);
  }

  allowGatewayPublic(nowMs: number): boolean {
    return this.#gatewayPublic.take(nowMs);
  }

  /**
   * An anonymous call from `caller`. Null — no peer address, which happens only in-process
   * (`app.request`), never behind @hono/node-server — is held to the global cap alone.
   */
  allowAnonymous(caller: string | null, nowMs: number): boolean {
    if (caller === null) return this.#global.take(nowMs);
    const bucket = this.#bucketFor(caller, nowMs);
    // Take from the global cap only when the caller's own bucket would allow the call.
    if (!bucket.peek(nowMs) || !this.#global.peek(nowMs)) return false;
    return bucket.take(nowMs) && this.#global.take(nowMs);
  }

  #bucketFor(caller: string, nowMs: number): TokenBucket {
    const known = this.#callers.get(caller);
    if (known) return known;
    if (this.#callers.size >= this.#limits.maxCallers) {
      for (const [k, b] of this.#callers) if (b.isFull(nowMs)) this.#callers.delete(k);
    }
    if (this.#callers.size >= this.#limits.maxCallers) return this.#overflow;
    const bucket = new TokenBucket(this.#limits.perCaller, nowMs);
    this.#callers.set(caller, bucket);
    return bucket;
  }

  /** Tracked callers (tests and the threat model's table). */
  get callerCount(): number {
    return this.#callers.size;
  }
}
