/**
 * `jsonShapeProblem`: depth exact at the bound, no recursion (a million levels does not overflow),
 * ±Infinity (a JSON literal beyond double range) found wherever it sits, and a number beyond the
 * exact range reported only when nothing is refused.
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
    // The smallest doubles and an underflow to 0 are numbers like any other; the largest are finite
    // (inexact_number: kept as written, not refused).
    expect(jsonShapeProblem(JSON.parse('[-5e-324,1e-400,-0]'), 64)).toBe(null);
    expect(jsonShapeProblem(JSON.parse('[1.7976931348623157e308]'), 64)).toBe('inexact_number');
  });
  it('a finite number beyond ±(2^53 − 1): inexact_number (parsed again exactly), wherever it sits', () => {
    for (const text of [
      '12345678901234567890',
      '{"seed":9007199254740993}',
      '[0,{"a":-9007199254740992}]',
      '1e20',
      '[1e21,-1e300,1.7976931348623157e308]',
    ]) {
      expect(jsonShapeProblem(JSON.parse(text), 64), text).toBe('inexact_number');
    }
    for (const text of ['9007199254740991', '-9007199254740991', '[0.1,123456789.5,1.5e-7,-5e-324]']) {
      expect(jsonShapeProblem(JSON.parse(text), 64), text).toBe(null);
    }
  });
  it('a refusal wins over inexact_number wherever each sits (the exact parse recurses)', () => {
    // The walk pops the last child first: put the inexact number where it is met first.
    expect(jsonShapeProblem(JSON.parse('{"d":[[[[]]]],"n":1e20}'), 3)).toBe('too_deep');
    expect(jsonShapeProblem(JSON.parse('[1e400,1e20]'), 64)).toBe('non_finite_number');
    expect(jsonShapeProblem(JSON.parse('[[1e400],1e20]'), 64)).toBe('non_finite_number');
    expect(jsonShapeProblem({ n: 1e20, d: nest(100) }, 64)).toBe('too_deep');
  });
});
