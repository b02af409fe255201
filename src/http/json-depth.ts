/**
 * What a parsed request body may not carry, found in one walk without recursion (a hostile body
 * can be nested far deeper than the call stack):
 *
 * - nesting deeper than a bound: OpenAI request bodies nest a few levels (tool parameter schemas
 *   a few more); a body deeper than a generous bound is refused at the edge instead of being
 *   sealed, sent and parsed again by a worker and a model server;
 * - a number `JSON.parse` turned into ±Infinity: a literal beyond IEEE 754 double range (`1e400`),
 *   which I-JSON forbids (RFC 7493 §2.2) and which the sealed body's `JSON.stringify` would send on
 *   as `null` — the model server would see another request than the client sent;
 * - a number the sealed body's `JSON.stringify` writes as an integer beyond ±(2^53 − 1), I-JSON's
 *   exact range (RFC 7493 §2.2): `"seed": 12345678901234567890` is held as the nearest double and
 *   would reach the model server as `12345678901234567000` — a model server in Python reads
 *   integers exactly, so it would run with another seed than the client sent. Above 1e21
 *   `JSON.stringify` writes exponent form (ECMA-262 Number::toString), a float to every reader,
 *   so `1.7976931348623157e308` passes as the number it is.
 */
export const MAX_REQUEST_JSON_DEPTH = 64;

export type JsonShapeProblem = 'too_deep' | 'non_finite_number' | 'inexact_integer';

/** Below this, `JSON.stringify` writes an integral number as digits (ECMA-262 Number::toString). */
const DIGITS_BELOW = 1e21;

/** What is wrong with a number for the sealed body, or null (the cheap test first: most are small). */
function numberProblem(n: number): JsonShapeProblem | null {
  if (Math.abs(n) <= Number.MAX_SAFE_INTEGER) return null;
  if (!Number.isFinite(n)) return 'non_finite_number';
  return Number.isInteger(n) && Math.abs(n) < DIGITS_BELOW ? 'inexact_integer' : null;
}

/**
 * The first problem found in `value` (arrays/objects nested more than `max` levels, ±Infinity, an
 * integer beyond 2^53 − 1 written as digits), or null.
 */
export function jsonShapeProblem(value: unknown, max: number): JsonShapeProblem | null {
  if (typeof value === 'number') return numberProblem(value);
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return 'too_deep';
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
      else if (typeof child === 'number') {
        const problem = numberProblem(child);
        if (problem) return problem;
      }
    }
  }
  return null;
}
