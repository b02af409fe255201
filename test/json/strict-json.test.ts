/**
 * The strict JSON reader (src/json/strict-json.ts): RFC 8259's grammar under I-JSON (RFC 7493).
 * Its problems are `invalid_json` with RFC 6901 pointers; the manifest reports them as its own.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { findLoneSurrogate, isWellFormedString, parseStrictJson } from '../../src/json/strict-json.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';

function jsonError(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    expect(isSealgateError(e, 'invalid_json')).toBe(true);
    return (e as { detail: { errors: { path: string; message: string }[] } }).detail.errors;
  }
  return expect.unreachable('expected an invalid_json error');
}

describe('parseStrictJson', () => {
  it('reads what JSON.parse reads, for generated JSON', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
    );
  });

  it('keeps a member named __proto__ as a plain member', () => {
    const v = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['a duplicate member name', '{"x":{"a":1,"b":2,"a":3}}', '/x/a', 'duplicate member name'],
    ['an escaped lone surrogate', '{"s":"\\ud800x"}', '/s', 'unpaired surrogate'],
    ['a raw lone surrogate', '["\ud800"]', '/0', 'unpaired surrogate'],
    ['a reversed surrogate pair', '["\\udc00\\ud800"]', '/0', 'unpaired surrogate'],
    ['a number beyond double range', '{"n":1e400}', '/n', 'number out of IEEE 754 double range'],
    ['trailing text', '{} {}', '', 'unexpected text after the JSON value'],
    ['a byte-order mark', '\ufeff{}', '', 'unexpected character'],
    ['a leading zero', '[01]', '', 'expected "," or "]"'],
    ['a plus sign', '[+1]', '/0', 'unexpected character'],
    ['a bare fraction', '[.5]', '/0', 'unexpected character'],
    ['a trailing comma', '{"a":1,}', '', 'expected a member name'],
    ['single quotes', "{'a':1}", '', 'expected a member name'],
    ['a comment', '{"a":1 /* c */}', '', 'expected "," or "}"'],
    ['a raw control character', '["a\tb"]', '/0', 'control character in string'],
    ['a bad escape', '["\\x41"]', '/0', 'bad escape'],
    ['NaN', '[NaN]', '/0', 'unexpected character'],
    ['an empty text', '  ', '', 'unexpected end of text'],
    [
      'nesting deeper than 32',
      `${'['.repeat(33)}${']'.repeat(33)}`,
      '/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0',
      'nesting deeper than 32',
    ],
  ])('rejects %s', (_what, text, path, message) => {
    const errors = jsonError(() => parseStrictJson(text));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe(path);
    expect(errors[0]?.message).toContain(message);
  });

  it('escapes "/" and "~" in paths (RFC 6901)', () => {
    expect(jsonError(() => parseStrictJson('{"a/b":{"c~d":[1,2,}]}}'))[0]?.path).toBe('/a~1b/c~0d/2');
  });

  it('accepts nesting of exactly 32', () => {
    expect(() => parseStrictJson(`${'['.repeat(32)}${']'.repeat(32)}`)).not.toThrow();
  });
});

describe('isWellFormedString (native where the runtime has it)', () => {
  it('refuses every unpaired surrogate, wherever it stands', () => {
    for (const bad of [
      '\ud800',
      '\udc00',
      'a\ud83d',
      '\ude00b',
      '\ude00\ud83d',
      'x\ud83d\ud83d\ude00',
      '👋\udfff',
    ]) {
      expect([bad, isWellFormedString(bad)]).toEqual([bad, false]);
    }
    for (const good of ['', 'plain', '€', '👋', '\ud83d\ude00\ud83d\ude00', '\u0000', '\uffff']) {
      expect([good, isWellFormedString(good)]).toEqual([good, true]);
    }
  });
  it('agrees with the code-unit scan on any UTF-16 text', () => {
    const unit = fc.oneof(
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.constantFrom(0xd83d, 0xde00, 0x61),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 24 }), (units) => {
        const s = String.fromCharCode(...units);
        expect(isWellFormedString(s)).toBe(findLoneSurrogate(s) < 0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the manifest over the strict reader', () => {
  it('reports a JSON problem as invalid_manifest with the same pointer', () => {
    try {
      parseManifest('{"version":1,"version":1}');
      expect.unreachable('expected an invalid_manifest error');
    } catch (e) {
      expect(isSealgateError(e, 'invalid_manifest')).toBe(true);
      expect((e as Error).message).toBe(
        'invalid manifest: /version: JSON: duplicate member name (RFC 7493 §2.3)',
      );
    }
  });
});
