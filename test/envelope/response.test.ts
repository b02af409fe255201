import { describe, expect, it } from 'vitest';
import { isMeteringUsage, openResponse, sealResponse } from '../../src/envelope/response.js';
import { parseKeepingExactNumbers } from '../../src/json/exact-numbers.js';
import { expectSealgateError } from '../keys/support.js';
import { contexts } from './contexts.js';

const RESPONSE = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  model: 'm',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'the secret answer' }, finish_reason: 'stop' },
  ],
  usage: {
    prompt_tokens: 5,
    completion_tokens: 3,
    total_tokens: 8,
    completion_tokens_details: { reasoning_tokens: 0 },
  },
};

describe('sealResponse → openResponse', () => {
  it('carries numbers beyond ±(2^53 − 1) exactly: the gateway writes the client what the model wrote', async () => {
    const { a } = await contexts();
    // A model's answer with such numbers in JSON values (not in a tool call's arguments, which are a
    // string): `created`, a usage count, an extra field. The worker reads it this way
    // (src/model/upstream.ts readJson), so the sealed text holds the digits as written.
    const text =
      '{"id":"c","created":9007199254740993,"x_trace":[18446744073709551615,-9007199254740993,1e300],' +
      '"usage":{"prompt_tokens":5,"completion_tokens":12345678901234567890}}';
    const sealed = await sealResponse(a, parseKeepingExactNumbers(text) as Record<string, unknown>);
    // The usage is not a metering shape (a count beyond 2^53): it stays sealed.
    expect(Object.keys(sealed)).toEqual(['sealgate']);
    // What src/gateway/sealing/upstream.ts sends the client. Opened with a plain JSON.parse, it was
    // '…"created":9007199254740992…' (the gateway rounded what the worker carried).
    expect(JSON.stringify(await openResponse(a, JSON.stringify(sealed)))).toBe(text);
  });
  it('round-trips; usage stays readable, the rest does not', async () => {
    const { a } = await contexts();
    const sealed = await sealResponse(a, RESPONSE);
    expect(Object.keys(sealed)).toEqual(['usage', 'sealgate']);
    expect(sealed.usage).toEqual(RESPONSE.usage);
    expect(JSON.stringify(sealed)).not.toContain('secret answer');
    expect(await openResponse(a, sealed)).toEqual(RESPONSE);
    expect(await openResponse(a, JSON.stringify(sealed))).toEqual(RESPONSE);
  });
  it('two responses to the same request never share a key (fresh rs)', async () => {
    const { a } = await contexts();
    const x = await sealResponse(a, RESPONSE);
    const y = await sealResponse(a, RESPONSE);
    expect(x.sealgate.rs).not.toBe(y.sealgate.rs);
    expect(x.sealgate.ct).not.toBe(y.sealgate.ct);
  });
  it('a usage without the metering shape stays sealed', async () => {
    const { a } = await contexts();
    const odd = { ...RESPONSE, usage: { prompt_tokens: 5, note: 'model says hi' } };
    const sealed = await sealResponse(a, odd);
    expect(Object.keys(sealed)).toEqual(['sealgate']);
    expect(await openResponse(a, sealed)).toEqual(odd);
  });
});

describe('openResponse fails closed', () => {
  it('on the response of another request, route or key', async () => {
    const { a, b, otherRoute } = await contexts();
    const sealed = await sealResponse(a, RESPONSE);
    await expectSealgateError(
      openResponse(b, sealed),
      'decryption_failed',
      'sealed response: authentication failed',
    );
    await expectSealgateError(
      openResponse(otherRoute, sealed),
      'decryption_failed',
      'sealed response: authentication failed',
    );
  });
  it('on edited usage, rs or ct, and on malformed envelopes', async () => {
    const { a } = await contexts();
    const sealed = JSON.parse(JSON.stringify(await sealResponse(a, RESPONSE)));
    const cases: [(s: typeof sealed) => void, string][] = [
      [(s) => (s.usage.total_tokens = 7), 'sealed response: authentication failed'],
      [(s) => delete s.usage, 'sealed response: authentication failed'],
      [
        (s) =>
          (s.sealgate.rs =
            `A${s.sealgate.rs.slice(1)}` === s.sealgate.rs
              ? `B${s.sealgate.rs.slice(1)}`
              : `A${s.sealgate.rs.slice(1)}`),
        'sealed response: authentication failed',
      ],
      [
        (s) =>
          (s.sealgate.ct =
            `A${s.sealgate.ct.slice(1)}` === s.sealgate.ct
              ? `B${s.sealgate.ct.slice(1)}`
              : `A${s.sealgate.ct.slice(1)}`),
        'sealed response: authentication failed',
      ],
      [
        (s) => (s.usage.total_tokens = -1),
        'sealed response: usage must be an object of non-negative integers',
      ],
      [(s) => (s.choices = []), 'sealed response: unexpected field "choices"'],
      [(s) => (s.sealgate.v = 2), 'sealed response: unsupported version'],
      [(s) => (s.sealgate.extra = 1), 'sealed response: "sealgate" must have exactly v, rs, ct'],
      [(s) => (s.sealgate.rs = 'AAAA'), 'sealed response: rs must be 32 bytes of canonical base64url'],
      [(s) => (s.sealgate.ct = ''), 'sealed response: ct must be at least 16 bytes of canonical base64url'],
    ];
    for (const [mutate, message] of cases) {
      const s = JSON.parse(JSON.stringify(sealed));
      mutate(s);
      await expectSealgateError(openResponse(a, s), 'decryption_failed', message);
    }
  });
  it('validates its inputs', async () => {
    const { a } = await contexts();
    await expectSealgateError(
      sealResponse(a, 'text'),
      'invalid_argument',
      'sealResponse: body must be a JSON object',
    );
    await expectSealgateError(
      sealResponse({ ...a, dek: 'x' } as never, RESPONSE),
      'invalid_argument',
      'sealResponse: context must come from sealRequest or openRequest',
    );
  });
});

describe('isMeteringUsage', () => {
  it('accepts counts, nulls and one level of nesting only', () => {
    expect(isMeteringUsage({ prompt_tokens: 1, x: null, d: { cached_tokens: 0 } })).toBe(true);
    expect(isMeteringUsage({ a: 1.5 })).toBe(false);
    expect(isMeteringUsage({ a: '1' })).toBe(false);
    expect(isMeteringUsage({ d: { e: { f: 1 } } })).toBe(false);
    expect(isMeteringUsage([1])).toBe(false);
    expect(isMeteringUsage(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])))).toBe(
      false,
    );
  });
});
