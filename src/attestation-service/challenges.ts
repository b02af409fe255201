/**
 * Worker challenges: the nonces the service hands out for worker evidence. A nonce is what makes a
 * worker's report fresh (REPORT_DATA binds it), so each is single-use — taken out of the store by
 * the registration that answers it, whatever that registration's outcome — and expires after
 * `ttlSeconds`. The store is bounded: anyone may ask for a challenge, and an unbounded map would be
 * memory anyone can allocate. When full (after dropping expired entries) it refuses new ones
 * rather than evicting live ones, so a flood cannot cancel a worker's registration in progress.
 */

import { NONCE_LENGTH } from '../attestation/report-data.js';
import { toBase64Url } from '../bytes.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';

export const CHALLENGE_TTL_SECONDS = 60;
export const MAX_OUTSTANDING_CHALLENGES = 1024;

export interface Challenge {
  nonce: Uint8Array;
  /** Unix seconds; the challenge is refused from this second on. */
  expiresAt: number;
}

export type TakeResult = { ok: true; challenge: Challenge } | { ok: false; reason: 'unknown' | 'expired' };

export class ChallengeStore {
  readonly #byNonce = new Map<string, Challenge>();
  readonly #ttl: number;
  readonly #max: number;
  readonly #random: RandomSource;

  constructor(opts: { ttlSeconds?: number; max?: number; random?: RandomSource } = {}) {
    this.#ttl = opts.ttlSeconds ?? CHALLENGE_TTL_SECONDS;
    this.#max = opts.max ?? MAX_OUTSTANDING_CHALLENGES;
    this.#random = opts.random ?? systemRandom;
  }

  /** A fresh challenge, or null when the store is full of live ones. */
  issue(now: number): Challenge | null {
    if (this.#byNonce.size >= this.#max) this.prune(now);
    if (this.#byNonce.size >= this.#max) return null;
    const nonce = drawRandom(this.#random, NONCE_LENGTH, 'a challenge nonce');
    const challenge = { nonce, expiresAt: now + this.#ttl };
    this.#byNonce.set(toBase64Url(nonce), challenge);
    return challenge;
  }

  /** Removes and returns the challenge for `nonce`: a second take of the same nonce is `unknown`. */
  take(nonce: Uint8Array, now: number): TakeResult {
    const key = toBase64Url(nonce);
    const challenge = this.#byNonce.get(key);
    if (!challenge) return { ok: false, reason: 'unknown' };
    this.#byNonce.delete(key);
    if (now >= challenge.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, challenge };
  }

  prune(now: number): void {
    for (const [key, c] of this.#byNonce) if (now >= c.expiresAt) this.#byNonce.delete(key);
  }

  get size(): number {
    return this.#byNonce.size;
  }
}
