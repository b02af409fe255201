/**
 * Worker challenges: the nonces the service hands out for worker evidence (REPORT_DATA binds one,
 * which makes a report fresh). Stateless, like the gateway's SGN1 nonces, so that asking for
 * challenges allocates nothing and a flood of asks cannot crowd out a worker:
 *
 *   nonce = "SWC1"[4] ‖ expiresAt u32-BE[4] ‖ random[8] ‖ HMAC-SHA256(K, "SWC1" ‖ expiresAt ‖ random)[0..16]
 *
 * K is 32 random bytes made when the service starts, held in memory only (a restarted service has
 * a new K, so its old challenges are void — as its keys are). The 128-bit tag (NIST SP 800-107r1
 * §5.3.4 truncation) is compared in constant time.
 *
 * Single use is enforced only after the evidence verified (`spend`): the spent set is filled by
 * workers whose hardware evidence the service accepted, never by an anonymous caller, and each
 * entry leaves when its challenge expires. Bounded: when full of live entries `spend` refuses
 * rather than forgetting one (a forgotten entry would let that evidence register twice).
 */

import { NONCE_LENGTH } from '../attestation/report-data.js';
import { concatBytes, constantTimeEqual, toArrayBuffer, toBase64Url, utf8 } from '../bytes.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';

export const CHALLENGE_TTL_SECONDS = 60;
/** Spent challenges remembered until they expire; only verified registrations add one. */
export const MAX_SPENT_CHALLENGES = 4096;
export const CHALLENGE_MAGIC = utf8.encode('SWC1');
const RANDOM_LENGTH = 8;
const TAG_LENGTH = 16;
const SIGNED_LENGTH = NONCE_LENGTH - TAG_LENGTH;

export interface Challenge {
  nonce: Uint8Array;
  /** Unix seconds; the challenge is refused from this second on. */
  expiresAt: number;
}

export type CheckResult =
  | { ok: true; expiresAt: number }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' | 'spent' };

export class ChallengeIssuer {
  readonly #spent = new Map<string, number>();
  readonly #ttl: number;
  readonly #maxSpent: number;
  readonly #random: RandomSource;
  readonly #key: Promise<CryptoKey>;

  constructor(opts: { ttlSeconds?: number; maxSpent?: number; random?: RandomSource } = {}) {
    this.#ttl = opts.ttlSeconds ?? CHALLENGE_TTL_SECONDS;
    this.#maxSpent = opts.maxSpent ?? MAX_SPENT_CHALLENGES;
    this.#random = opts.random ?? systemRandom;
    const raw = drawRandom(this.#random, 32, 'the challenge MAC key');
    this.#key = crypto.subtle.importKey(
      'raw',
      toArrayBuffer(raw),
      { name: 'HMAC', hash: 'SHA-256', length: 256 },
      false,
      ['sign'],
    );
  }

  async #tag(signed: Uint8Array): Promise<Uint8Array> {
    const mac = await crypto.subtle.sign('HMAC', await this.#key, toArrayBuffer(signed));
    return new Uint8Array(mac).slice(0, TAG_LENGTH);
  }

  /** A fresh challenge; allocates nothing on the service. */
  async issue(now: number): Promise<Challenge> {
    const expiresAt = now + this.#ttl;
    const when = new Uint8Array(4);
    new DataView(when.buffer).setUint32(0, expiresAt, false);
    const signed = concatBytes(
      CHALLENGE_MAGIC,
      when,
      drawRandom(this.#random, RANDOM_LENGTH, 'a challenge nonce'),
    );
    return { nonce: concatBytes(signed, await this.#tag(signed)), expiresAt };
  }

  /** Ours (tag), unexpired and not yet spent. Cheap: run it before verifying any evidence. */
  async check(nonce: Uint8Array, now: number): Promise<CheckResult> {
    if (nonce.length !== NONCE_LENGTH || !constantTimeEqual(nonce.slice(0, 4), CHALLENGE_MAGIC)) {
      return { ok: false, reason: 'malformed' };
    }
    const signed = nonce.slice(0, SIGNED_LENGTH);
    if (!constantTimeEqual(await this.#tag(signed), nonce.slice(SIGNED_LENGTH))) {
      return { ok: false, reason: 'forged' };
    }
    const expiresAt = new DataView(signed.buffer, signed.byteOffset + 4, 4).getUint32(0, false);
    if (now >= expiresAt) return { ok: false, reason: 'expired' };
    if (this.#spent.has(toBase64Url(nonce))) return { ok: false, reason: 'spent' };
    return { ok: true, expiresAt };
  }

  /**
   * Marks a checked challenge used, after its evidence verified. False when it already was (two
   * registrations raced with one nonce) or when the spent set is full of live entries.
   */
  spend(nonce: Uint8Array, expiresAt: number, now: number): boolean {
    const key = toBase64Url(nonce);
    if (this.#spent.has(key)) return false;
    if (this.#spent.size >= this.#maxSpent) this.prune(now);
    if (this.#spent.size >= this.#maxSpent) return false;
    this.#spent.set(key, expiresAt);
    return true;
  }

  prune(now: number): void {
    for (const [key, expiresAt] of this.#spent) if (now >= expiresAt) this.#spent.delete(key);
  }

  /** Entries in the spent set (tests and the threat model's table). */
  get spentCount(): number {
    return this.#spent.size;
  }
}
