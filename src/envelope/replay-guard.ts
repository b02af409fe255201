/**
 * Replay within the time window: the timestamp check in openRequest bounds *when* a sealed request is
 * accepted; a ReplayGuard makes it accepted at most *once* by everything that shares the guard.
 * openRequest claims an id only after the request authenticated (so forged traffic cannot burn a
 * real request's id), and the id is the key id plus the wrapped DEK, unique per sealing.
 *
 * The in-memory guard covers one process. Replicas that must not both serve the same request need a
 * shared guard (a store with put-if-absent and expiry); the response keys stay safe either way,
 * because every response draws its own salt (see data-key.ts).
 */
import { SealgateError } from '../errors.js';
import { checkUnixSeconds } from '../keys/time.js';

export interface ReplayGuard {
  /**
   * Records `id` as used until `expiresAt` (Unix seconds). Returns true the first time, false if the
   * id is already recorded and not yet expired.
   */
  claim(id: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

export class MemoryReplayGuard implements ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;
  #nextSweep = 0;
  /** The latest `now` a sweep used: ids expiring at or before it may have been forgotten. */
  #sweptUpTo = 0;

  /**
   * `maxEntries` bounds memory. When it is reached even after dropping expired ids, claims fail
   * closed (`replay_detected`) rather than forgetting ids that are still inside their window.
   */
  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? 1_000_000;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new SealgateError('invalid_argument', 'MemoryReplayGuard: maxEntries must be a positive integer');
    }
    this.#maxEntries = max;
  }

  claim(id: string, expiresAt: number, now: number): boolean {
    const t = checkUnixSeconds(now, 'MemoryReplayGuard.claim: now');
    const until = checkUnixSeconds(expiresAt, 'MemoryReplayGuard.claim: expiresAt');
    const seen = this.#seen.get(id);
    if (seen !== undefined && seen > t) return false;
    // An id that a sweep may already have dropped cannot be proved fresh. With a monotonic clock
    // the caller's time window refuses such a request anyway; this holds when the clock steps
    // back (an NTP correction) after the sweep, which would otherwise re-open the window for it.
    if (until <= this.#sweptUpTo) return false;
    if (this.#seen.size >= this.#maxEntries) this.#sweep(t, true);
    else if (t >= this.#nextSweep) this.#sweep(t, false);
    if (this.#seen.size >= this.#maxEntries) {
      throw new SealgateError('replay_detected', 'replay guard full: refusing to forget live ids', {
        size: this.#seen.size,
      });
    }
    // Deleted first so that the id moves to the end: the map stays in about expiry order.
    this.#seen.delete(id);
    this.#seen.set(id, until);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  /**
   * Drops expired ids. Ids are claimed in about the order they expire (ts + window, ts near the
   * caller's clock), so the scheduled sweep (at most once a second of caller time) goes from the
   * oldest and stops at the first live one, instead of walking every live id of the window each
   * second; one a little out of order is dropped by a later sweep. A full guard sweeps everything.
   */
  #sweep(now: number, whole: boolean): void {
    for (const [id, until] of this.#seen) {
      if (until <= now) this.#seen.delete(id);
      else if (!whole) break;
    }
    this.#nextSweep = now + 1;
    this.#sweptUpTo = Math.max(this.#sweptUpTo, now);
  }
}
