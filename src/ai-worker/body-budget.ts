/**
 * How many bytes of sealed request bodies the AI worker holds at once. A sealed body must be read
 * whole before it can be authenticated (AES-GCM's tag is at its end), so whoever reaches the
 * worker's port — it must be reachable from the gateway, so from the internet — can make it hold
 * up to the body limit per connection without any key (16 MiB; a transcription's more). Without a
 * bound, enough connections exhaust the process's memory and take every request down with it;
 * with one, a body that would pass it is refused `503 not_ready` (`retry-after`), which the gateway
 * reads as "try the next worker" (src/gateway/sealing/upstream.ts), and the process lives on.
 *
 * Counted as bytes arrive and held until the request's answer is done (its response closed): the
 * body's bytes stay referenced while the request is opened and served. Per process, not per peer:
 * the gateway's requests come from a few Cloudflare addresses, so a per-peer share would throttle
 * it first.
 */
export const DEFAULT_BODY_BYTES_IN_FLIGHT = 1024 * 1024 * 1024;

/** One request's share of a BodyBudget. */
export interface BodyHold {
  /** Adds `n` bytes to the request's share: false (nothing added) when the budget cannot take them. */
  take(n: number): boolean;
  /** Gives back everything this request took (idempotent). */
  release(): void;
}

export class BodyBudget {
  #inFlight = 0;

  constructor(readonly limitBytes: number = DEFAULT_BODY_BYTES_IN_FLIGHT) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 1) {
      throw new RangeError(`BodyBudget: limitBytes must be a positive integer, got ${limitBytes}`);
    }
  }

  /** Bytes of request bodies held now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** A new request's share (a class, not closures: tsx names every closure made per request). */
  hold(): BodyHold {
    return new Hold(this);
  }

  /** Adds `n` bytes if they fit under the limit. */
  tryAdd(n: number): boolean {
    if (this.#inFlight + n > this.limitBytes) return false;
    this.#inFlight += n;
    return true;
  }

  remove(n: number): void {
    this.#inFlight -= n;
  }
}

class Hold implements BodyHold {
  #held = 0;

  constructor(readonly budget: BodyBudget) {}

  take(n: number): boolean {
    if (!this.budget.tryAdd(n)) return false;
    this.#held += n;
    return true;
  }

  release(): void {
    this.budget.remove(this.#held);
    this.#held = 0;
  }
}
