/**
 * Numbers beyond ±(2^53 − 1) carried as their source text (src/json/exact-numbers.ts). Runs in Node
 * AND in workerd at the project's compatibility date (vitest.config.ts): the proof that both
 * runtimes have JSON.parse source text access and JSON.rawJSON, which the gateway (workerd) and the
 * AI worker (Node) both rely on.
 */
import { describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import {
  canKeepExactNumbers,
  hasInexactNumber,
  isRawJsonNumber,
  keepExactNumbers,
  parseKeepingExactNumbers,
} from '../../src/json/exact-numbers.js';

const roundTrip = (text: string) => JSON.stringify(parseKeepingExactNumbers(text));

describe('parseKeepingExactNumbers', () => {
  it('this runtime has source text access and JSON.rawJSON', () => {
    expect(canKeepExactNumbers()).toBe(true);
    let source: unknown;
    JSON.parse('[9223372036854775807]', ((_k: string, v: unknown, ctx?: { source?: string }) => {
      if (typeof v === 'number') source = ctx?.source;
      return v;
    }) as never);
    expect(source).toBe('9223372036854775807');
  });

  it('writes back every number beyond ±(2^53 − 1) byte for byte, wherever it sits', () => {
    const texts = [
      '{"model":"m","seed":12345678901234567890}',
      '{"tools":[{"parameters":{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}}]}',
      '{"logit_bias":{"50256":-100},"n":[9007199254740993,-9007199254740992,9007199254740991]}',
      // Integers JSON.stringify would write in exponent form, a float written as an integer, and
      // exponent forms: each as the client wrote it (a reader in Python sees the same type).
      '[1000000000000000000000,12345678901234567890.0,1e300,-1.7976931348623157e308,9.1e15]',
    ];
    for (const text of texts) expect(roundTrip(text), text).toBe(text);
    // Without it, the first is rounded: the gap this closes.
    expect(JSON.stringify(JSON.parse(texts[0]!))).toBe('{"model":"m","seed":12345678901234567000}');
  });

  it('leaves every other value as JSON.parse makes it', () => {
    const text =
      '{"a":[1,-0.5,9007199254740991,-9007199254740991,1e-7,"12345678901234567890"],"b":null,"c":true}';
    expect(parseKeepingExactNumbers(text)).toEqual(JSON.parse(text));
    // JSON.stringify's own forms for safe numbers are unchanged (1.0 → 1, 1e2 → 100), as before.
    expect(roundTrip('[1.0,1e2]')).toBe('[1,100]');
  });

  it('a kept number is not a number to a reader: it refuses, never reads a rounding', () => {
    const body = parseKeepingExactNumbers('{"max_tokens":9007199254740993}') as Record<string, unknown>;
    expect(typeof body.max_tokens).toBe('object');
    expect(isRawJsonNumber(body.max_tokens)).toBe(true);
    expect(Number.isSafeInteger(body.max_tokens)).toBe(false);
    // It survives the copies the gateway and the envelope make (spread, defineProperty).
    const copy: Record<string, unknown> = { ...body };
    Object.defineProperty(copy, 'x', { value: body.max_tokens, enumerable: true });
    expect(JSON.stringify(copy)).toBe('{"max_tokens":9007199254740993,"x":9007199254740993}');
  });

  it('a number beyond double range is left to the caller (±Infinity, refused there)', () => {
    expect(parseKeepingExactNumbers('[1e400]')).toEqual([Number.POSITIVE_INFINITY]);
  });

  it('hasInexactNumber finds one at the top, in arrays, deep in objects; not in strings', () => {
    for (const text of ['12345678901234567890', '[0,{"a":[1,-1e20]}]', '{"a":{"b":{"c":1e300}}}']) {
      expect(hasInexactNumber(JSON.parse(text)), text).toBe(true);
    }
    for (const text of ['9007199254740991', '["12345678901234567890"]', '{"a":[1.5,null,{}]}', '[1e400]']) {
      expect(hasInexactNumber(JSON.parse(text)), text).toBe(false);
    }
    const deep = JSON.parse(`${'['.repeat(200_000)}1e20${']'.repeat(200_000)}`);
    expect(hasInexactNumber(deep)).toBe(true);
  });

  it('refuses (invalid_argument) rather than round when the source is not handed over', () => {
    // A caller's own reviver context is what V8 gives; simulate a runtime that gives none.
    const original = JSON.parse;
    const parse = (text: string, reviver: (k: string, v: unknown) => unknown) =>
      original(text, (k, v) => reviver(k, v));
    JSON.parse = parse as typeof JSON.parse;
    try {
      expect(() => parseKeepingExactNumbers('[12345678901234567890]')).toThrow(
        expect.toSatisfy((e: unknown) => isSealgateError(e, 'invalid_argument')),
      );
    } finally {
      JSON.parse = original;
    }
  });
});

describe('keepExactNumbers (the cheap-path rule of requests and answers)', () => {
  it('returns the first parse itself when it holds no number beyond ±(2^53 − 1)', () => {
    const text = '{"created":9007199254740991,"usage":{"total_tokens":7},"s":"12345678901234567890"}';
    const first = JSON.parse(text);
    expect(keepExactNumbers(first, text)).toBe(first);
  });

  it('parses again keeping such numbers when the first parse holds one', () => {
    const text = '{"created":9007199254740993,"choices":[{"logprob":-1.5}]}';
    const first = JSON.parse(text);
    const kept = keepExactNumbers(first, text);
    expect(kept).not.toBe(first);
    expect(JSON.stringify(first)).toBe('{"created":9007199254740992,"choices":[{"logprob":-1.5}]}');
    expect(JSON.stringify(kept)).toBe(text);
  });
});
