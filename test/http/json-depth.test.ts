/** `nestsDeeperThan`: exact at the bound, and no recursion (a million levels does not overflow). */
import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../src/http/json-depth.js';

const nest = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

describe('nestsDeeperThan', () => {
  it('counts objects and arrays; scalars are depth 0', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    for (const n of [1, 2, 63, 64, 65]) {
      expect(nestsDeeperThan(nest(n), 64), String(n)).toBe(n > 64);
    }
    // object → array → object → array: four levels.
    expect(nestsDeeperThan({ a: [1, { b: [] }], c: {} }, 4)).toBe(false);
    expect(nestsDeeperThan({ a: [1, { b: [] }], c: {} }, 3)).toBe(true);
  });
  it('a million levels: no stack overflow', () => {
    expect(nestsDeeperThan(JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`), 64)).toBe(true);
  });
});
