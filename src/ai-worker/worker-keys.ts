/**
 * The KEKs a worker holds, and how it learns new ones.
 *
 * `WorkerKeys` is the `KeyLookup` the worker hands to `openRequest`: a `KeyRing` that, on a key id it
 * does not know, asks the attestation service once before answering `unknown_key` — the gateway
 * promotes a key only after the service confirmed it (docs/services.md), so a request under an
 * unknown key usually means "rotated since the last poll", and one refresh settles it.
 *
 * Refreshes are coalesced and rate-limited, because a request with a made-up key id costs nothing
 * to send and must not become a flood on the service:
 * - a caller needs a refresh that *started after it asked* (one that was already running may have
 *   missed the key); while one runs, all later callers share a single queued follow-up;
 * - refreshes start at least `minIntervalMs` apart (the follow-up waits for its slot).
 * A failed refresh is logged by its caller's refresher and does not fail the request beyond
 * `unknown_key`.
 */
import { isSealgateError, SealgateError } from '../errors.js';
import type { Kek } from '../keys/kek.js';
import { type KeyLookup, KeyRing } from '../keys/key-ring.js';

export interface WorkerKeyStore extends KeyLookup {
  /** Keys usable at `now` (Unix seconds): the worker is ready when this is > 0. */
  count(now: number): number;
  /** The ids of the keys usable at `now` (public: the gateway's readiness asks which it holds). */
  keyIds?(now: number): string[];
}

export interface WorkerKeysOptions {
  /** Fetches keys (from the attestation service) and adds them to `ring`. */
  refresher?: (keys: WorkerKeys) => Promise<void>;
  /** Milliseconds between the starts of two refreshes. Default 1000. */
  minIntervalMs?: number;
  /** Millisecond clock (Date.now by default). */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class WorkerKeys implements WorkerKeyStore {
  readonly ring = new KeyRing();
  #refresher: ((keys: WorkerKeys) => Promise<void>) | undefined;
  readonly #minIntervalMs: number;
  readonly #clock: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  #refreshes = 0;

  constructor(options: WorkerKeysOptions = {}) {
    this.#refresher = options.refresher;
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
    this.#clock = options.clock ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  set refresher(fn: (keys: WorkerKeys) => Promise<void>) {
    this.#refresher = fn;
  }

  /** How many refreshes have started (for health and tests). */
  get refreshes(): number {
    return this.#refreshes;
  }

  count(now: number): number {
    return this.ring.list().filter((k) => now < k.notAfter).length;
  }

  keyIds(now: number): string[] {
    return this.ring
      .list()
      .filter((k) => now < k.notAfter)
      .map((k) => k.kid);
  }

  async add(kek: Kek): Promise<void> {
    await this.ring.add(kek);
  }

  /** `KeyLookup.get`: an unknown id triggers one refresh, then `unknown_key` if still unknown. */
  async get(kid: string, now: number): Promise<Kek> {
    try {
      return this.ring.get(kid, now);
    } catch (e) {
      if (!isSealgateError(e, 'unknown_key') || !this.#refresher) throw e;
    }
    try {
      await this.refresh();
    } catch {
      // The refresher logs why; for this request the key stays unknown.
    }
    if (!this.ring.has(kid)) {
      throw new SealgateError('unknown_key', 'unknown key id (after refreshing keys)', { kid });
    }
    return this.ring.get(kid, now);
  }

  /** A refresh that starts after this call (shared with concurrent callers); rejects if it fails. */
  refresh(): Promise<void> {
    if (!this.#refresher)
      return Promise.reject(new SealgateError('internal', 'WorkerKeys: no refresher set'));
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#start();
    const queued = this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.#start();
      });
    this.#queued = queued;
    return queued;
  }

  #start(): Promise<void> {
    const run = (async () => {
      const wait = this.#lastStart + this.#minIntervalMs - this.#clock();
      if (wait > 0) await this.#sleep(wait);
      this.#lastStart = this.#clock();
      this.#refreshes++;
      await this.#refresher!(this);
    })();
    const running = run.finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}
