/**
 * The shared JSON type guards (src/json/object-guards.ts): what each one calls an object. Runs in
 * Node and in workerd (vitest.config.ts), as the domains that import them do.
 */
import { describe, expect, it } from 'vitest';
import { parseKeepingExactNumbers } from '../../src/json/exact-numbers.js';
import { isJsonObject, isRecord } from '../../src/json/object-guards.js';

const NOT_OBJECTS: [string, unknown][] = [
  ['null', null],
  ['an array', []],
  ['a string', '{}'],
  ['a number', 1],
  ['a boolean', true],
  ['undefined', undefined],
];

describe('isRecord and isJsonObject', () => {
  it.each(NOT_OBJECTS)('%s is neither', (_what, value) => {
    expect(isRecord(value)).toBe(false);
    expect(isJsonObject(value)).toBe(false);
  });

  it('a parsed JSON object, an object literal and a null-prototype object are both', () => {
    for (const value of [JSON.parse('{"a":1}'), { a: 1 }, Object.create(null)]) {
      expect(isRecord(value)).toBe(true);
      expect(isJsonObject(value)).toBe(true);
    }
  });

  it('a number kept as its source text is a record to JavaScript, not a JSON object', () => {
    const raw = parseKeepingExactNumbers('12345678901234567890');
    expect(typeof raw).toBe('object');
    expect(isRecord(raw)).toBe(true);
    expect(isJsonObject(raw)).toBe(false);
  });
});
