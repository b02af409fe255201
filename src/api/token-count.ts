/**
 * A model's token count, read to be added up, metered or translated.
 *
 * Invariant: a count is never read as smaller than an honest one. The model server's report is
 * trusted for its size only when it is a count (a non-negative JSON number); otherwise it reads so
 * that no report is cheaper than the truth:
 * - a non-negative integer up to 2^53 − 1 is itself;
 * - a fractional count (`1.5`) is rounded up (`2`): tokens are whole, and a rounding down would
 *   let a server shave a token off every answer;
 * - a count beyond 2^53 − 1 (a double past it, +Infinity from `1e400`, or a number kept as its
 *   digits by src/json/exact-numbers.ts, which `typeof` calls an object) reads as
 *   Number.MAX_SAFE_INTEGER;
 * - a value that is present but no count — negative (`-5`), NaN, a string, a boolean, an object —
 *   also reads as Number.MAX_SAFE_INTEGER ("never free"): read as 0 it would make the answer
 *   cheaper than an honest one, and the answer is already delivered when its usage comes (a stream
 *   reports it last), so refusing it is not an option;
 * - only an absent count (`undefined`, or JSON `null`) is no count.
 * Number.MAX_SAFE_INTEGER exhausts any budget (the key's usage object takes at most
 * MAX_TOKENS_PER_RECORD per record, src/gateway/limits/usage-windows.ts).
 */

/** The count `x` reports, read as above; undefined only when `x` is absent (undefined or null). */
export function tokenCount(x: unknown): number | undefined {
  if (x === undefined || x === null) return undefined;
  // `x >= 0` is false for NaN and for a negative number, and a kept number is no `number`.
  if (typeof x === 'number' && x >= 0) return Math.min(Math.ceil(x), Number.MAX_SAFE_INTEGER);
  return Number.MAX_SAFE_INTEGER;
}

/** The sum of counts, each absent one as 0, saturated at Number.MAX_SAFE_INTEGER. */
export function sumTokenCounts(...xs: unknown[]): number {
  let sum = 0;
  for (const x of xs) sum += tokenCount(x) ?? 0;
  return Math.min(sum, Number.MAX_SAFE_INTEGER);
}
