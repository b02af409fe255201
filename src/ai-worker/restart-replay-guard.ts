/**
 * The replay guard of one worker process, which remembers only what this process claimed.
 *
 * The guard lives in memory, so a restarted worker (the host can restart its process or VM at
 * will) has forgotten every request its previous process served, while the KEKs outlive the
 * process (the service releases the same ones again): a sealed request recorded on the wire and
 * replayed verbatim within the 300 s window would still open and run again.
 *
 * Invariant: an id is accepted only when every process that could have claimed it is this one.
 * `openRequest` claims an id until `ts + maxAge + 1` (src/envelope/request.ts), so a claim's `ts`
 * is `expiresAt − maxAge − 1`; a request sealed before this process began (`ts < startedAt`) may
 * have been served by another process and is refused (`replay_detected`, as a replay). What stays
 * open: a replay within the very second the process started (`ts` is whole seconds), and replicas,
 * which each have their own guard (docs/threat-model.md).
 */
import type { ReplayGuard } from '../envelope/replay-guard.js';

export class RestartReplayGuard implements ReplayGuard {
  readonly #inner: ReplayGuard;
  readonly #startedAt: number;
  readonly #maxAgeSeconds: number;

  /** `startedAt`: Unix seconds when this process began serving; `maxAgeSeconds`: the window's. */
  constructor(inner: ReplayGuard, opts: { startedAt: number; maxAgeSeconds: number }) {
    this.#inner = inner;
    this.#startedAt = opts.startedAt;
    this.#maxAgeSeconds = opts.maxAgeSeconds;
  }

  claim(id: string, expiresAt: number, now: number): boolean | Promise<boolean> {
    const sealedAt = expiresAt - this.#maxAgeSeconds - 1;
    if (sealedAt < this.#startedAt) return false;
    return this.#inner.claim(id, expiresAt, now);
  }
}
