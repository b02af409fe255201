/**
 * The KEKs the service holds (memory only, docs/services.md): a `KeyRing` plus the service's
 * acceptance rules for an upload, checked after the upload opened with the service's key:
 *
 * - not expired (now < notAfter) — a dead key would only be released to workers for nothing;
 * - a validity window no longer than the manifest's `keyPolicy.lifetimeSeconds` (a KEK's not-after
 *   is `lifetimeSeconds` after it is made, docs/manifest.md "keyPolicy"), so no upload outlives
 *   the policy every party agreed to;
 * - at most `max` live keys. Rotation keeps two or three alive; the bound is memory hygiene, since
 *   HPKE base mode does not authenticate the sender (see the report / docs/services.md).
 *
 * The same key uploaded again is accepted and changes nothing (idempotent for a kid).
 *
 * Keys leave by expiry, or when the pinned gateway retires them (`retire`, key-routes.ts): the
 * orphans a lost confirmation or a lost Durable Object storage left behind (docs/protocol.md
 * "Retiring orphan keys").
 */
import type { Kek } from '../keys/kek.js';
import { KeyRing } from '../keys/key-ring.js';

export const MAX_SERVICE_KEYS = 16;

export type AcceptResult =
  | { ok: true; kek: Kek; added: boolean }
  | { ok: false; code: 'key_expired' | 'invalid_request' | 'rate_limited'; message: string };

export class ServiceKeyStore {
  readonly #ring = new KeyRing();
  readonly #lifetimeSeconds: number;
  readonly #max: number;

  constructor(opts: { lifetimeSeconds: number; max?: number }) {
    this.#lifetimeSeconds = opts.lifetimeSeconds;
    this.#max = opts.max ?? MAX_SERVICE_KEYS;
  }

  async accept(kek: Kek, now: number): Promise<AcceptResult> {
    this.#ring.prune(now);
    if (now >= kek.notAfter) return { ok: false, code: 'key_expired', message: 'the key has expired' };
    if (kek.notAfter - kek.notBefore > this.#lifetimeSeconds) {
      return {
        ok: false,
        code: 'invalid_request',
        message: `the key's validity window exceeds the manifest's key lifetime (${this.#lifetimeSeconds} s)`,
      };
    }
    const known = this.#ring.has(kek.kid);
    if (!known && this.#ring.size >= this.#max) {
      return { ok: false, code: 'rate_limited', message: 'the service holds the maximum number of keys' };
    }
    try {
      return { ok: true, kek: await this.#ring.add(kek), added: !known };
    } catch {
      // Only reachable with the same kid and another window: kids derive from keys, so a relabel.
      return {
        ok: false,
        code: 'invalid_request',
        message: 'a key with this id is held with another window',
      };
    }
  }

  /** Drops the keys named in `kids`; returns those it held (unknown kids are ignored). */
  retire(kids: readonly string[]): string[] {
    return kids.filter((kid) => this.#ring.delete(kid));
  }

  /** Unexpired keys (including those not yet valid: they are released ahead of promotion), newest first. */
  active(now: number): Kek[] {
    this.#ring.prune(now);
    return this.#ring.list();
  }
}
