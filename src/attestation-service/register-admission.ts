/**
 * How many `POST /v1/workers/register` the service works on at once (docs/threat-model.md "Bounded
 * tables"). A challenge costs nothing to ask for, so anyone who can reach the service can start a
 * registration; each one holds its body (up to 2 MiB) while it arrives and then costs an evidence
 * verification (signatures, maybe KDS, PCS and OCSP fetches). Unbounded, slow uploads would hold
 * memory without limit.
 *
 * Invariants: at most `total` registrations are in flight, at most `perCaller` of them from one
 * TCP peer (the same notion of caller as the attestation budgets, rate-limit.ts); a body must arrive
 * whole within `bodyDeadlineMs`, so a slot is held at most that long plus one verification. A
 * registration beyond either bound is refused before its body is read (`429 rate_limited`); the
 * worker retries with backoff. The per-caller map holds only callers with a registration in
 * flight, so it never has more than `total` entries.
 */

export interface RegistrationLimits {
  total: number;
  perCaller: number;
  bodyDeadlineMs: number;
}

/** An honest worker registers one at a time; 16 × 2 MiB bounds what bodies in flight can hold. */
export const DEFAULT_REGISTRATION_LIMITS: Readonly<RegistrationLimits> = Object.freeze({
  total: 16,
  perCaller: 4,
  bodyDeadlineMs: 10_000,
});

/** Callers whose peer address is unknown share one slot count. */
const UNKNOWN_CALLER = '';

export class RegistrationAdmission {
  readonly limits: Readonly<RegistrationLimits>;
  #total = 0;
  readonly #byCaller = new Map<string, number>();

  constructor(limits: Readonly<RegistrationLimits> = DEFAULT_REGISTRATION_LIMITS) {
    this.limits = limits;
  }

  /** A release function when `caller` may start a registration now, else null. */
  enter(caller: string | null): (() => void) | null {
    const key = caller ?? UNKNOWN_CALLER;
    const mine = this.#byCaller.get(key) ?? 0;
    if (this.#total >= this.limits.total || mine >= this.limits.perCaller) return null;
    this.#total++;
    this.#byCaller.set(key, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#byCaller.get(key) ?? 1) - 1;
      if (left === 0) this.#byCaller.delete(key);
      else this.#byCaller.set(key, left);
    };
  }

  /** Registrations in flight (tests and the threat model's table). */
  get inFlight(): number {
    return this.#total;
  }
}
