/**
 * How many bytes of sealed request bodies the AI worker holds at once. A sealed body must be read
 * whole before it can be authenticated (AES-GCM's tag is at its end), so whoever reaches the
 * worker's port — it must be reachable from the gateway, so from the internet — can make it hold
 * up to the body limit per connection without any key (16 MiB; a transcription's more). Without a
 * bound, enough connections exhaust the process's memory and take every request down with it;
 * with one, a body that would pass it is refused `503 not_ready` (`retry-after`), which the gateway
 * reads as "try the next worker" (src/gateway/sealing/upstream.ts), and the process lives on.
 *
 * Two bounds, both counted as bytes arrive and held until the request's answer is done (its
 * response closed: the body's bytes stay referenced while the request is opened and served):
 *
 * - the process's `limitBytes` (memory: nothing passes it);
 * - each peer's share, `perPeerBytes` (default a quarter of the process's), so that one peer
 *   cannot fill the budget and make the worker answer 503 to everyone. A peer is the TCP remote
 *   address, an IPv6 one by its /64 (one host is routinely given a whole /64, so one address per
 *   request would be no bound), an IPv4-mapped IPv6 address as its IPv4 one; peers whose address
 *   is unknown share one share.
 *
 * The share is a quarter, not less: the gateway's requests come from a few Cloudflare addresses,
 * and with the default 1 GiB one such address may still hold 256 MiB — sixteen bodies at the
 * 16 MiB limit, thousands of chats. An attacker with four or more addresses (or /64s) can still
 * fill the process's budget: the share makes that cost addresses, it does not make it impossible.
 * A worker reached through a proxy that hides the client's address (a TCP load balancer without
 * PROXY protocol) sees one peer, and the share becomes its whole budget: `SEALGATE_BODY_MIB_PER_PEER`
 * sets the share (up to the process's budget); the worker is meant to be reached directly
 * (docs/deployment.md).
 *
 * The worker's share is never less than one sealed body of the largest kind (`workerBodyBudget`):
 * a transcription's, MAX_SEALED_FORM_BYTES (~33.4 MiB). With a quarter alone, the smallest process
 * budget allowed (64 MiB) gave each peer 16 MiB, and every transcription near the audio limit was
 * 503 from every worker.
 *
 * Invariant: the per-peer map holds only peers with bytes held, so it has no more entries than
 * there are requests reading or being answered.
 */
import { MAX_SEALED_FORM_BYTES } from '../api/transcriptions/form.js';
import { clientAddressGroup } from '../http/client-address.js';

export const DEFAULT_BODY_BYTES_IN_FLIGHT = 1024 * 1024 * 1024;
/** A peer's default share is the process's budget divided by this. */
export const PEER_SHARE_DIVISOR = 4;
/** The key of every peer whose address is not known (a socket already gone). */
export const UNKNOWN_PEER = 'unknown';

/**
 * The AI worker's budget: `limitBytes` for the process and `perPeerBytes` for each peer, by default
 * a quarter of the process's but at least one transcription's sealed body (never more than the
 * process's budget, which main.ts keeps at 64 MiB or more).
 */
export function workerBodyBudget(
  limitBytes = DEFAULT_BODY_BYTES_IN_FLIGHT,
  perPeerBytes?: number,
): BodyBudget {
  const share = Math.max(Math.floor(limitBytes / PEER_SHARE_DIVISOR), MAX_SEALED_FORM_BYTES);
  return new BodyBudget(limitBytes, perPeerBytes ?? Math.min(limitBytes, share));
}

/** One request's share of a BodyBudget. */
export interface BodyHold {
  /** Adds `n` bytes to the request's share: false (nothing added) when the budget cannot take them. */
  take(n: number): boolean;
  /** Gives back everything this request took (idempotent). */
  release(): void;
}

export class BodyBudget {
  #inFlight = 0;
  readonly #peers = new Map<string, number>();
  readonly perPeerBytes: number;

  constructor(
    readonly limitBytes: number = DEFAULT_BODY_BYTES_IN_FLIGHT,
    perPeerBytes?: number,
  ) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 1) {
      throw new RangeError(`BodyBudget: limitBytes must be a positive integer, got ${limitBytes}`);
    }
    this.perPeerBytes = perPeerBytes ?? Math.max(1, Math.floor(limitBytes / PEER_SHARE_DIVISOR));
    if (!Number.isSafeInteger(this.perPeerBytes) || this.perPeerBytes < 1 || this.perPeerBytes > limitBytes) {
      throw new RangeError(`BodyBudget: perPeerBytes must be 1..limitBytes, got ${perPeerBytes}`);
    }
  }

  /** Bytes of request bodies held now, in all. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Bytes held now for the peer at `address`. */
  peerInFlight(address: string | null | undefined): number {
    return this.#peers.get(peerKey(address)) ?? 0;
  }

  /** A new request's share, from the peer at `address` (a class, not closures: tsx names every closure made per request). */
  hold(address?: string | null): BodyHold {
    return new Hold(this, peerKey(address));
  }

  /** Adds `n` bytes for `peer` if they fit under both bounds. */
  tryAdd(n: number, peer: string): boolean {
    const held = this.#peers.get(peer) ?? 0;
    if (this.#inFlight + n > this.limitBytes || held + n > this.perPeerBytes) return false;
    this.#inFlight += n;
    this.#peers.set(peer, held + n);
    return true;
  }

  remove(n: number, peer: string): void {
    if (n === 0) return;
    this.#inFlight -= n;
    const left = (this.#peers.get(peer) ?? 0) - n;
    if (left > 0) this.#peers.set(peer, left);
    else this.#peers.delete(peer);
  }
}

class Hold implements BodyHold {
  #held = 0;

  constructor(
    readonly budget: BodyBudget,
    readonly peer: string,
  ) {}

  take(n: number): boolean {
    if (!this.budget.tryAdd(n, this.peer)) return false;
    this.#held += n;
    return true;
  }

  release(): void {
    this.budget.remove(this.#held, this.peer);
    this.#held = 0;
  }
}

/**
 * The peer an address counts as: its client group (IPv4 as it is, IPv4-mapped IPv6 as its IPv4
 * address, other IPv6 by its /64: src/http/client-address.ts), nothing as UNKNOWN_PEER.
 */
export function peerKey(address: string | null | undefined): string {
  if (typeof address !== 'string' || address.length === 0) return UNKNOWN_PEER;
  return clientAddressGroup(address);
}
