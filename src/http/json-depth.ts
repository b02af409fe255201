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
 * - a finite number beyond ±(2^53 − 1), I-JSON's exact integer range (RFC 7493 §2.2): not a
 *   refusal — `JSON.parse` holds it rounded (`"seed": 12345678901234567890` as the nearest double,
 *   which the sealed body's `JSON.stringify` would send on as `12345678901234567000`), so the caller
 *   parses the text again keeping it exact (src/json/exact-numbers.ts). Reported only when the
 *   value is otherwise acceptable: that second parse recurses, and must not meet a deep body.
 */
export const MAX_REQUEST_JSON_DEPTH = 64;

export type JsonShapeProblem = 'too_deep' | 'non_finite_number' | 'inexact_number';

/** What is wrong with a number, or null (the cheap test first: most are small). */
function numberProblem(n: number): JsonShapeProblem | null {
  if (Math.abs(n) <= Number.MAX_SAFE_INTEGER) return null;
  return Number.isFinite(n) ? 'inexact_number' : 'non_finite_number';
}

/**
 * The refusal found in `value` (arrays/objects nested more than `max` levels, ±Infinity), else
 * `inexact_number` when a finite number lies beyond ±(2^53 − 1) (to be parsed again exactly),
 * else null. One walk, no recursion; it stops at the first refusal.
 */
export function jsonShapeProblem(value: unknown, max: number): JsonShapeProblem | null {
  if (typeof value === 'number') return numberProblem(value);
  let inexact = false;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return 'too_deep';
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
      else if (typeof child === 'number') {
        const problem = numberProblem(child);
        if (problem === 'non_finite_number') return problem;
        if (problem === 'inexact_number') inexact = true;
      }
    }
  }
  return inexact ? 'inexact_number' : null;
}
