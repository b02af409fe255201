/**
 * The token usage of one API key (docs/gateway.md "Limits and budgets"): one object per key,
 * `idFromName(<sha256 hex of the key>)`, storage key `usage` = `UsageStanding` (the current UTC
 * minute, day and month and the tokens counted in each). The object serializes the
 * read-modify-write, so answers settled from every isolate add up (no lost updates, unlike KV).
 *
 * Invariant: no request waits on this object. Answers are settled through `waitUntil` after they
 * ended, and isolates read the standing into a cache off the request path (limits/standing-cache.ts).
 */
import { DurableObject } from 'cloudflare:workers';
import { nowMs } from '../clock.js';
import {
  addUsage,
  currentStanding,
  MAX_TOKENS_PER_RECORD,
  type UsageStanding,
} from '../limits/usage-windows.js';

export class KeyUsage extends DurableObject {
  /**
   * Adds an answer's tokens, counted in the window of the object's own clock when it arrives (one
   * clock for every isolate's answers: a late settlement never rolls a window back); returns the
   * standing after it.
   */
  async record(tokens: number): Promise<UsageStanding> {
    if (!Number.isSafeInteger(tokens) || tokens < 0 || tokens > MAX_TOKENS_PER_RECORD) {
      throw new RangeError('bad token count');
    }
    const s = this.ctx.storage;
    const next = addUsage(await s.get<UsageStanding>('usage'), tokens, nowMs());
    await s.put('usage', next);
    return next;
  }

  /** The standing now (windows that have passed count zero). */
  async standing(): Promise<UsageStanding> {
    return currentStanding(await this.ctx.storage.get<UsageStanding>('usage'), nowMs());
  }
}
