/**
 * RFC 8785 canonicalization against published vectors:
 * - RFC 8785 §3.2.2 (the example object) and §3.2.3 (the sorting example);
 * - RFC 8785 Appendix B "Number Serialization Samples" (IEEE 754 bit patterns → text);
 * - cyberphone/json-canonicalization testdata `values.json` and `weird.json` (input/output pairs).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/bytes.js';
import { isSealgateError } from '../../src/errors.js';
import { canonicalizeJson, canonicalJsonBytes } from '../../src/json/canonical.js';
import { parseStrictJson } from '../../src/json/strict-json.js';

const jcs = (text: string): string => canonicalizeJson(parseStrictJson(text));

describe('RFC 8785 examples', () => {
  it('§3.2.2: the example object', () => {
    const input = `{
      "numbers": [333333333.33333329, 1E30, 4.50,
                  2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`;
    expect(jcs(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('§3.2.3: members sorted by UTF-16 code units (not code points, not locale)', () => {
    const input = `{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33: code-unit order, unlike code-point order.
    expect(jcs(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('§3.2.4: the canonical form is hashed as UTF-8', () => {
    expect(toHex(canonicalJsonBytes({ '€': 'ö' }))).toBe('7b22e282ac223a22c3b6227d');
  });
});

// RFC 8785 Appendix B: IEEE 754 double (hex bit pattern) → JSON number text.
const APPENDIX_B: [string, string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
];

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('RFC 8785 Appendix B: number serialization', () => {
  it.each(APPENDIX_B)('%s → %s', (bits, text) => {
    expect(canonicalizeJson(fromBits(bits))).toBe(text);
    expect(canonicalizeJson([fromBits(bits)])).toBe(`[${text}]`);
  });

  it.each(['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000'])(
    '%s (NaN/Infinity) is an error',
    (bits) => {
      expect(() => canonicalizeJson({ n: fromBits(bits) })).toThrow(/jcs: \/n: number .* is not allowed/);
    },
  );

  it('every finite double serializes to text that parses back to the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const text = canonicalizeJson(n);
        expect(Number(text)).toBe(Object.is(n, -0) ? 0 : n);
        expect(canonicalizeJson(parseStrictJson(text))).toBe(text);
      }),
    );
  });
});

describe('cyberphone/json-canonicalization testdata', () => {
  it('values.json', () => {
    const input = `{
  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],
  "escaping": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
  "literals": [null, true, false]
}`;
    expect(jcs(input)).toBe(
      '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}',
    );
  });

  it('weird.json', () => {
    const input = `{
  "\\u20ac": "Euro Sign",
  "1": "One",
  "\\u0080": "Control\\u007f",
  "\\ud83d\\ude02": "Smiley",
  "\\u00f6": "Latin Small Letter O With Diaeresis",
  "\\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}`;
    expect(jcs(input)).toBe(
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });
});

describe('canonicalizeJson: strings and values', () => {
  it('escapes exactly the RFC 8785 §3.2.2.2 set', () => {
    let all = '';
    for (let c = 0; c < 0x20; c++) all += String.fromCharCode(c);
    expect(canonicalizeJson(`${all}"\\/\u007f\u2028`)).toBe(
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f' +
        '\\"\\\\/\u007f\u2028"',
    );
  });

  it('agrees with JSON.stringify on well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(canonicalizeJson(s)).toBe(JSON.stringify(s));
      }),
    );
  });

  it('sorts nested members and keeps array order', () => {
    expect(canonicalizeJson({ b: [3, { z: 1, a: 2 }, 1], a: { y: null, x: true } })).toBe(
      '{"a":{"x":true,"y":null},"b":[3,{"a":2,"z":1},1]}',
    );
  });

  it('is invariant under member order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(canonicalizeJson(reversed)).toBe(canonicalizeJson(o));
      }),
    );
  });

  it.each([
    ['a lone high surrogate', { s: '\ud800' }, '/s'],
    ['a lone low surrogate in a name', { '\udc00': 1 }, '/\udc00'],
    ['undefined', { u: undefined }, '/u'],
    ['a bigint', { b: 1n }, '/b'],
    ['a function', [() => 1], '/0'],
    ['a Date', { d: new Date(0) }, '/d'],
    ['a Uint8Array', { b: new Uint8Array(1) }, '/b'],
  ])('rejects %s with its path', (_what, value, path) => {
    try {
      canonicalizeJson(value);
      expect.unreachable();
    } catch (e) {
      expect(isSealgateError(e, 'invalid_argument')).toBe(true);
      expect((e as Error).message.startsWith(`jcs: ${path}: `)).toBe(true);
    }
  });

  it('encodes the canonical form as UTF-8', () => {
    expect(utf8.decode(canonicalJsonBytes({ '😀': [1.0, -0] }))).toBe('{"😀":[1,0]}');
  });
});
