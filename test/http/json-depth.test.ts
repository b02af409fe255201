/**
 * `jsonShapeProblem`: depth exact at the bound, no recursion (a million levels does not overflow),
 * and ±Infinity (a JSON literal beyond double range) found wherever it sits.
 */
import { describe, expect, it } from 'vitest';
import { jsonShapeProblem } from '../../src/http/json-depth.js';

const nest = (n: number, leaf: unknown = 1): unknown => {
  let v: unknown = leaf;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

describe('jsonShapeProblem', () => {
  it('counts objects and arrays; scalars are depth 0', () => {
    expect(jsonShapeProblem(1, 0)).toBe(null);
    expect(jsonShapeProblem({}, 0)).toBe('too_deep');
    expect(jsonShapeProblem({}, 1)).toBe(null);
    for (const n of [1, 2, 63, 64, 65]) {
      expect(jsonShapeProblem(nest(n), 64), String(n)).toBe(n > 64 ? 'too_deep' : null);
    }
    // object → array → object → array: four levels.
    expect(jsonShapeProblem({ a: [1, { b: [] }], c: {} }, 4)).toBe(null);
    expect(jsonShapeProblem({ a: [1, { b: [] }], c: {} }, 3)).toBe('too_deep');
  });
  it('a million levels: no stack overflow', () => {
    const deep = JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`);
    expect(jsonShapeProblem(deep, 64)).toBe('too_deep');
  });
  it('a number beyond double range, at the top, in an array, deep in an object', () => {
    for (const text of ['1e400', '[1,-1e400]', '{"a":{"b":[0,{"c":1e999}]}}']) {
      expect(jsonShapeProblem(JSON.parse(text), 64), text).toBe('non_finite_number');
    }
    expect(jsonShapeProblem(nest(30, Number.NEGATIVE_INFINITY), 64)).toBe('non_finite_number');
    // The largest doubles, the smallest, and an underflow to 0 are numbers like any other.
    expect(jsonShapeProblem(JSON.parse('[1.7976931348623157e308,-5e-324,1e-400,-0]'), 64)).toBe(null);
  });
  it('an integer beyond ±(2^53 − 1) that JSON.stringify would write back rounded, as digits', () => {
    for (const text of [
      '12345678901234567890',
      '{"seed":9007199254740993}',
      '[0,{"a":-9007199254740992}]',
      '1e20',
    ]) {
      expect(jsonShapeProblem(JSON.parse(text), 64), text).toBe('inexact_integer');
    }
    // The exact range's ends, fractions, and numbers JSON.stringify writes in exponent form (a float
    // to every reader, kept as such) are numbers like any other.
    for (const text of ['9007199254740991', '-9007199254740991', '[0.1,123456789.5,1e21,-1e300,1.5e-7]']) {
      expect(jsonShapeProblem(JSON.parse(text), 64), text).toBe(null);
    }
  });
});
