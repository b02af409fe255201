/**
 * What a parsed request body may not carry, found in one walk without recursion (a hostile body
 * can be nested far deeper than the call stack):
 *
 * - nesting deeper than a bound: OpenAI request bodies nest a few levels (tool parameter schemas
 *   a few more); a body deeper than a generous bound is refused at the edge instead of being
 *   sealed, sent and parsed again by a worker and a model server;
 * - a number `JSON.parse` turned into ±Infinity: a literal beyond IEEE 754 double range (`1e400`),
 *   which I-JSON forbids (RFC 7493 §2.2) and which the sealed body's `JSON.stringify` would send on
 *   as `null` — the model server would see another request than the client sent.
 */
export const MAX_REQUEST_JSON_DEPTH = 64;

export type JsonShapeProblem = 'too_deep' | 'non_finite_number';

/** The first problem found in `value` (arrays/objects nested more than `max` levels, or ±Infinity), or null. */
export function jsonShapeProblem(value: unknown, max: number): JsonShapeProblem | null {
  if (typeof value === 'number' && !Number.isFinite(value)) return 'non_finite_number';
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return 'too_deep';
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
      else if (typeof child === 'number' && !Number.isFinite(child)) return 'non_finite_number';
    }
  }
  return null;
}
