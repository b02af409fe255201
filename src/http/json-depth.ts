/**
 * How deep a parsed JSON value nests, measured without recursion (a hostile body can be nested far
 * deeper than the call stack). OpenAI request bodies nest a few levels (tool parameter schemas a
 * few more); a body deeper than a generous bound is refused at the edge instead of being sealed,
 * sent and parsed again by a worker and a model server.
 */
export const MAX_REQUEST_JSON_DEPTH = 64;

/** True when `value` has arrays/objects nested more than `max` levels deep. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
