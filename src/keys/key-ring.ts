/**
 * The set of KEKs a party holds, looked up by key id with the caller's `now` (Unix seconds).
 *
 * Rules (docs/protocol.md "Key ids and lifetimes"):
 * - `current(now)` — the key a sealer uses: among keys with notBefore ≤ now < notAfter, the newest
 *   (greatest notBefore; ties: later notAfter, then smaller kid, so every replica picks the same).
 * - `get(kid, now)` — the key an opener uses: known and now < notAfter. notBefore is *not* enforced
 *   here: a key is uploaded and released ahead of its notBefore so workers hold it before any gateway
 *   promotes it, and refusing it on the opener's side would only turn clock skew into outages.
 * - Rotation overlap falls out of the windows: the previous key stays openable until its own
 *   notAfter, while `current` already prefers the new one.
 */
import { SealgateError } from '../errors.js';
import { checkKek, type Kek } from './kek.js';
import { checkUnixSeconds } from './time.js';

/** What an opener needs: the envelope takes any implementation (e.g. one that fetches on a miss). */
export interface KeyLookup {
  get(kid: string, now: number): Kek | Promise<Kek>;
}

export class KeyRing implements KeyLookup {
  readonly #keys = new Map<string, Kek>();

  /** A ring holding `keks` (each checked as by `add`). */
  static async from(keks: Iterable<unknown>): Promise<KeyRing> {
    const ring = new KeyRing();
    for (const kek of keks) await ring.add(kek);
    return ring;
  }

  /**
   * Adds a KEK after checking it (shape, window, kid derived from key). Adding the same key again is a
   * no-op; the same kid with a different window is refused (a key's lifetime is fixed when it is made).
   */
  async add(kek: unknown): Promise<Kek> {
    const checked = await checkKek(kek, 'KeyRing.add');
    const existing = this.#keys.get(checked.kid);
    if (existing) {
      if (existing.notBefore !== checked.notBefore || existing.notAfter !== checked.notAfter) {
        throw new SealgateError('invalid_argument', 'KeyRing.add: kid already present with another window', {
          kid: checked.kid,
        });
      }
      return existing;
    }
    this.#keys.set(checked.kid, checked);
    return checked;
  }

  get(kid: string, now: number): Kek {
    const t = checkUnixSeconds(now, 'KeyRing.get: now');
    const kek = typeof kid === 'string' ? this.#keys.get(kid) : undefined;
    if (!kek) throw new SealgateError('unknown_key', 'key ring: unknown key id', { kid });
    if (t >= kek.notAfter) {
      throw new SealgateError('key_expired', 'key ring: key expired', {
        kid,
        notAfter: kek.notAfter,
        now: t,
      });
    }
    return kek;
  }

  current(now: number): Kek {
    const t = checkUnixSeconds(now, 'KeyRing.current: now');
    let best: Kek | undefined;
    for (const kek of this.#keys.values()) {
      if (kek.notBefore > t || t >= kek.notAfter) continue;
      if (!best || newer(kek, best)) best = kek;
    }
    if (best) return best;
    // Fail closed. "Expired" when something used to be valid (the rotation stalled past notAfter),
    // "unknown" when nothing has become valid yet.
    if ([...this.#keys.values()].some((k) => k.notBefore <= t)) {
      throw new SealgateError('key_expired', 'key ring: no key valid now', { now: t });
    }
    throw new SealgateError('unknown_key', 'key ring: no key valid yet', { now: t });
  }

  has(kid: string): boolean {
    return this.#keys.has(kid);
  }

  delete(kid: string): boolean {
    return this.#keys.delete(kid);
  }

  /** Drops keys past their notAfter; returns their ids. */
  prune(now: number): string[] {
    const t = checkUnixSeconds(now, 'KeyRing.prune: now');
    const dropped: string[] = [];
    for (const [kid, kek] of this.#keys) {
      if (t >= kek.notAfter) {
        this.#keys.delete(kid);
        dropped.push(kid);
      }
    }
    return dropped;
  }

  /** All keys, newest first (the order `current` prefers). */
  list(): Kek[] {
    return [...this.#keys.values()].sort((a, b) => (newer(a, b) ? -1 : newer(b, a) ? 1 : 0));
  }

  get size(): number {
    return this.#keys.size;
  }
}

function newer(a: Kek, b: Kek): boolean {
  if (a.notBefore !== b.notBefore) return a.notBefore > b.notBefore;
  if (a.notAfter !== b.notAfter) return a.notAfter > b.notAfter;
  return a.kid < b.kid;
}
