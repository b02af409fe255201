/**
 * A model's token count, read to be added up, metered or translated.
 *
 * Invariant: a count is never read as smaller than the model reported. A count beyond 2^53 − 1
 * (a double past it, +Infinity from `1e400`, or a number kept as its digits by
 * src/json/exact-numbers.ts, which `typeof` calls an object) is absurd but not free: it reads as
 * Number.MAX_SAFE_INTEGER, which exhausts any budget (the key's usage object takes at most
 * MAX_TOKENS_PER_RECORD per record, src/gateway/limits/usage-windows.ts), so a model server that
 * reports 2^60 tokens never makes a metered key's answer free.
 */
import { isRawJsonNumber } from '../json/exact-numbers.js';

/** The count `x` reports: a non-negative integer; undefined when `x` is no count (absent, negative, fractional, not a number). */
export function tokenCount(x: unknown): number | undefined {
  if (typeof x === 'number') {
    if (Number.isSafeInteger(x)) return x >= 0 ? x : undefined;
    return x > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : undefined;
  }
  if (isRawJsonNumber(x)) return JSON.stringify(x).startsWith('-') ? undefined : Number.MAX_SAFE_INTEGER;
  return undefined;
}

/** The sum of counts, each absent one as 0, saturated at Number.MAX_SAFE_INTEGER. */
export function sumTokenCounts(...xs: unknown[]): number {
  let sum = 0;
  for (const x of xs) sum += tokenCount(x) ?? 0;
  return Math.min(sum, Number.MAX_SAFE_INTEGER);
}
