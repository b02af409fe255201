/**
 * The pure parts of per-key limits (src/gateway/limits/): reading a key's limits from its KV entry,
 * the usage windows, the token count of each route's answers and streams, OpenAI's headers.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseKeyLimits, rpmTier } from '../../src/gateway/limits/key-limits.js';
import { duration, LIMIT_HEADER_NAMES, limitHeaders } from '../../src/gateway/limits/limit-headers.js';
import {
  AUDIO_TOKENS_PER_SECOND,
  reportsTokens,
  UsageMeter,
  usageTokens,
} from '../../src/gateway/limits/usage-meter.js';
import {
  addUsage,
  currentStanding,
  msToPeriodEnd,
  tokenRefusal,
} from '../../src/gateway/limits/usage-windows.js';
import { parseKeepingExactNumbers } from '../../src/json/exact-numbers.js';

const T0 = Date.UTC(2026, 11, 31, 23, 59, 30); // 30 s before a new minute, day, month and year

describe('parseKeyLimits', () => {
  it('reads the limits an operator set, and none when there are none', () => {
    expect(parseKeyLimits(undefined)).toBeNull();
    expect(parseKeyLimits({})).toBeNull();
    expect(parseKeyLimits({ rpm: 60, tpm: 1000, budgetTokens: 5, budgetPeriod: 'day' })).toEqual({
      rpm: 60,
      tpm: 1000,
      budgetTokens: 5,
      budgetPeriod: 'day',
    });
  });

  it('enforces an rpm between tiers at the tier below it: stricter, never looser', () => {
    expect(parseKeyLimits({ rpm: 299 })).toEqual({ rpm: 120 });
    expect(rpmTier(5)).toBeNull();
  });

  it('refuses what it cannot read rather than treating it as no limit', () => {
    for (const bad of [
      null,
      [],
      'x',
      { rpm: 5 },
      { rpm: 0 },
      { rpm: 60.5 },
      { tpm: -1 },
      { tpm: '100' },
      { budgetTokens: 10 },
      { budgetPeriod: 'day' },
      { budgetTokens: 10, budgetPeriod: 'week' },
      { rpm: 60, burst: 3 },
    ]) {
      expect(parseKeyLimits(bad)).toBe('invalid');
    }
  });
});

describe('usage windows', () => {
  it('counts per UTC minute, day and month, and a passed window counts zero', () => {
    const a = addUsage(undefined, 100, T0);
    expect(a).toMatchObject({ minuteTokens: 100, dayTokens: 100, monthTokens: 100, day: '2026-12-31' });
    const b = addUsage(a, 50, T0 + 20_000);
    expect(b).toMatchObject({ minuteTokens: 150, dayTokens: 150, monthTokens: 150 });
    const c = currentStanding(b, T0 + 31_000); // a new minute, day, month
    expect(c).toMatchObject({
      minuteTokens: 0,
      dayTokens: 0,
      monthTokens: 0,
      day: '2027-01-01',
      month: '2027-01',
    });
    expect(msToPeriodEnd(T0, 'day')).toBe(30_000);
    expect(msToPeriodEnd(Date.UTC(2027, 0, 15), 'month')).toBe(17 * 86_400_000);
  });

  it('refuses over the budget (insufficient_quota) before over the tpm (rate_limit_exceeded)', () => {
    const s = addUsage(undefined, 1000, T0);
    expect(tokenRefusal({ tpm: 1001 }, s)).toBeNull();
    expect(tokenRefusal({ tpm: 1000 }, s)).toBe('rate_limit_exceeded');
    expect(tokenRefusal({ tpm: 1000, budgetTokens: 1000, budgetPeriod: 'month' }, s)).toBe(
      'insufficient_quota',
    );
    expect(tokenRefusal({ budgetTokens: 1001, budgetPeriod: 'day' }, s)).toBeNull();
  });
});

describe('UsageMeter', () => {
  it('reads usage in OpenAI, Responses and Anthropic shapes', () => {
    expect(usageTokens({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })).toBe(7);
    expect(usageTokens({ input_tokens: 3, output_tokens: 4 })).toBe(7);
    expect(usageTokens({ input_tokens: 3, output_tokens: 4, cache_read_input_tokens: 2 })).toBe(9);
    expect(usageTokens({ type: 'duration', seconds: 3 })).toBe(3 * AUDIO_TOKENS_PER_SECOND);
    expect(usageTokens({ type: 'duration', seconds: 2.01 })).toBe(3 * AUDIO_TOKENS_PER_SECOND);
    expect(usageTokens({ type: 'duration', seconds: -1 })).toBe(Number.MAX_SAFE_INTEGER);
    expect(usageTokens({ type: 'tokens', seconds: 3 })).toBe(0); // seconds count only under `duration`
    // An absent total does not hide the parts reported beside it.
    expect(usageTokens({ prompt_tokens: 3, completion_tokens: 4, total_tokens: null })).toBe(7);
    expect(usageTokens(null)).toBe(0);
  });

  it('reads a fractional count rounded up, a negative or non-numeric one as never free', async () => {
    const MAX = Number.MAX_SAFE_INTEGER;
    expect(usageTokens({ input_tokens: 3, output_tokens: 4, total_tokens: 6.5 })).toBe(7);
    expect(usageTokens({ prompt_tokens: 1.5, completion_tokens: 0.25 })).toBe(3);
    for (const bad of [-5, -0.5, '7', true, {}, []]) {
      expect(usageTokens({ total_tokens: bad })).toBe(MAX);
      expect(usageTokens({ prompt_tokens: 3, completion_tokens: bad })).toBe(MAX);
    }
    const json = new UsageMeter('/v1/chat/completions');
    json.json({ usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: -5 } });
    expect(await json.settled).toBe(MAX);
    const chat = new UsageMeter('/v1/chat/completions');
    chat.chunk('{"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":1.5}}');
    chat.chunk('[DONE]');
    chat.finishStream();
    expect(await chat.settled).toBe(4);
    const messages = new UsageMeter('/v1/messages');
    messages.chunk('{"type":"message_start","message":{"usage":{"input_tokens":-5,"output_tokens":0}}}');
    messages.chunk('{"type":"message_delta","usage":{"output_tokens":3}}');
    messages.chunk('{"type":"message_stop"}');
    messages.finishStream();
    expect(await messages.settled).toBe(MAX);
    const responses = new UsageMeter('/v1/responses');
    responses.chunk('{"type":"response.completed","response":{"usage":{"total_tokens":-1}}}');
    responses.finishStream();
    expect(await responses.settled).toBe(MAX);
  });

  it('reads a count past 2^53 as the largest safe count, never as free', async () => {
    const MAX = Number.MAX_SAFE_INTEGER;
    // As the gateway's answer open keeps it (its digits), and as a stream event's JSON.parse reads it.
    const kept = parseKeepingExactNumbers('{"usage":{"total_tokens":1152921504606846976}}') as {
      usage: unknown;
    };
    expect(usageTokens(kept.usage)).toBe(MAX);
    expect(usageTokens({ total_tokens: 2 ** 60 })).toBe(MAX);
    expect(usageTokens({ total_tokens: Number.POSITIVE_INFINITY })).toBe(MAX); // `1e400`
    // A huge part beside no total, and parts that add up past 2^53: saturated, not wrapped or free.
    expect(usageTokens({ prompt_tokens: 3, completion_tokens: 2 ** 60 })).toBe(MAX);
    expect(usageTokens({ input_tokens: MAX, output_tokens: MAX })).toBe(MAX);
    // A negative one is no count either, and not free.
    const negative = parseKeepingExactNumbers('{"total_tokens":-1152921504606846976,"prompt_tokens":2}');
    expect(usageTokens(negative)).toBe(MAX);
    const meter = new UsageMeter('/v1/chat/completions');
    meter.json(kept);
    expect(await meter.settled).toBe(MAX);
  });

  it('counts a JSON answer at once', async () => {
    const meter = new UsageMeter('/v1/embeddings');
    meter.json({ usage: { prompt_tokens: 9, total_tokens: 9 } });
    expect(await meter.settled).toBe(9);
  });

  it('asks a chat stream for its usage and withholds the usage chunk the client did not ask for', async () => {
    const meter = new UsageMeter('/v1/chat/completions');
    const body = { model: 'm', stream: true, stream_options: { x: 1 }, messages: [] };
    expect(meter.prepare(body)).toEqual({ ...body, stream_options: { x: 1, include_usage: true } });
    expect(meter.chunk('{"choices":[{"delta":{"content":"hi"}}],"usage":null}')).toBe(true);
    expect(
      meter.chunk('{"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}'),
    ).toBe(false);
    expect(meter.chunk('[DONE]')).toBe(true);
    meter.finishStream();
    expect(await meter.settled).toBe(3);
  });

  it('passes the usage chunk when the client asked for it, and leaves a non-stream body alone', async () => {
    const asked = new UsageMeter('/v1/completions');
    const body = { model: 'm', stream: true, stream_options: { include_usage: true } };
    expect(asked.prepare(body)).toBe(body);
    expect(asked.chunk('{"choices":[],"usage":{"total_tokens":5}}')).toBe(true);
    asked.finishStream();
    expect(await asked.settled).toBe(5);
    const plain = { model: 'm', messages: [] };
    expect(new UsageMeter('/v1/chat/completions').prepare(plain)).toBe(plain);
    expect(new UsageMeter('/v1/messages').prepare({ ...plain, stream: true })).toEqual({
      ...plain,
      stream: true,
    });
  });

  it('charges a stream without a usage report at least one token per event, never nothing', async () => {
    const silent = new UsageMeter('/v1/chat/completions'); // a server that ignores include_usage
    for (const word of ['a', 'b', 'c']) silent.chunk(`{"choices":[{"delta":{"content":"${word}"}}]}`);
    silent.chunk('[DONE]');
    silent.finishStream();
    expect(await silent.settled).toBe(3);
    const left = new UsageMeter('/v1/messages'); // the client went away before message_delta
    left.chunk('{"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}');
    for (let i = 0; i < 4; i++) left.chunk('{"type":"content_block_delta","delta":{"text":"x"}}');
    left.finishStream();
    expect(await left.settled).toBe(15);
  });

  it('asks for usage when the client sent stream_options: null (no options to OpenAI and vLLM)', async () => {
    const meter = new UsageMeter('/v1/chat/completions');
    const body = { model: 'm', stream: true, stream_options: null, messages: [] };
    expect(meter.prepare(body)).toEqual({ ...body, stream_options: { include_usage: true } });
    const odd = { model: 'm', stream: true, stream_options: 'yes' }; // the model server refuses it
    expect(new UsageMeter('/v1/completions').prepare(odd)).toBe(odd);
    // A number past 2^53 kept as its text (json/exact-numbers.ts) is no object to JSON: left as the
    // client sent it too, not spread into `{"rawJSON": …, "include_usage": true}`.
    const big = parseKeepingExactNumbers('{"model":"m","stream":true,"stream_options":1e20}') as Record<
      string,
      unknown
    >;
    const prepared = new UsageMeter('/v1/chat/completions').prepare(big);
    expect(JSON.stringify(prepared)).toBe('{"model":"m","stream":true,"stream_options":1e20}');
  });

  it('charges a stream its client left before the first event one token, an error answer none', async () => {
    const left = new UsageMeter('/v1/chat/completions');
    left.finishStream();
    expect(await left.settled).toBe(1);
    const failed = new UsageMeter('/v1/chat/completions'); // the worker never answered
    failed.finish();
    expect(await failed.settled).toBe(0);
  });

  it('never reads a total below its own parts, and never charges one count under two names twice', () => {
    expect(usageTokens({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 3 })).toBe(15);
    expect(usageTokens({ input_tokens: 10, output_tokens: 5, total_tokens: 0 })).toBe(15);
    const both = {
      prompt_tokens: 10,
      completion_tokens: 5,
      input_tokens: 10,
      output_tokens: 5,
      total_tokens: 15,
    };
    expect(usageTokens(both)).toBe(15);
    expect(usageTokens({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 40 })).toBe(40);
    expect(reportsTokens({})).toBe(false);
    expect(reportsTokens({ type: 'duration', seconds: 3 })).toBe(true);
    expect(reportsTokens({ type: 'duration' })).toBe(false);
    expect(reportsTokens({ prompt_tokens: null, total_tokens: null })).toBe(false);
    expect(reportsTokens({ prompt_tokens: 0 })).toBe(true);
  });

  it('estimates from the bytes it saw when no usage came: the request, and a JSON answer', async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'héllo '.repeat(50) }] };
    const sent = new TextEncoder().encode(JSON.stringify(body)).length;
    const chat = new UsageMeter('/v1/chat/completions');
    chat.prepare(body);
    const answer = { choices: [{ message: { role: 'assistant', content: 'ok' } }] };
    chat.json(answer);
    expect(await chat.settled).toBe(sent + JSON.stringify(answer).length);
    const empty = new UsageMeter('/v1/chat/completions'); // `{}` reports nothing
    empty.prepare(body);
    empty.json({ ...answer, usage: {} });
    expect(await empty.settled).toBe(sent + JSON.stringify({ ...answer, usage: {} }).length);
    const embeddings = new UsageMeter('/v1/embeddings'); // the answer is vectors: the request only
    embeddings.prepare({ model: 'm', input: 'x' });
    embeddings.json({ data: [{ embedding: [0.1, 0.2] }] });
    expect(await embeddings.settled).toBe(JSON.stringify({ model: 'm', input: 'x' }).length);
  });

  it('charges a transcription by its audio: a reported duration, else the answer or its duration', async () => {
    const meter = (answer: unknown) => {
      const m = new UsageMeter('/v1/audio/transcriptions');
      m.prepare({ model: 'm', form: { content_type: 'multipart/form-data', data: 'A'.repeat(9000) } });
      m.json(answer);
      return m.settled;
    };
    expect(await meter({ text: 'hi', usage: { type: 'duration', seconds: 3 } })).toBe(150);
    const tokens = { type: 'tokens', input_tokens: 14, output_tokens: 45, total_tokens: 59 };
    expect(await meter({ text: 'hi', usage: tokens })).toBe(59);
    // No usage: never the audio's bytes; the transcript's, or its duration if that is more.
    expect(await meter({ text: 'hi' })).toBe(JSON.stringify({ text: 'hi' }).length);
    const verbose = { task: 'transcribe', language: 'english', duration: 12.3, text: 'hi', segments: [] };
    expect(await meter(verbose)).toBe(13 * AUDIO_TOKENS_PER_SECOND);
  });

  it('charges a stream without its usage the prompt estimate plus one token per event', async () => {
    const body = { model: 'm', stream: true, messages: [{ role: 'user', content: 'word '.repeat(100) }] };
    const gone = new UsageMeter('/v1/chat/completions'); // left before its first event
    const sealed = gone.prepare(body);
    const bytes = JSON.stringify(sealed).length;
    expect(sealed).not.toBe(body); // include_usage added: the estimate is of what was sealed
    gone.finishStream();
    expect(await gone.settled).toBe(bytes);
    const silent = new UsageMeter('/v1/chat/completions'); // whole, but the usage says nothing
    silent.prepare(body);
    silent.chunk('{"choices":[{"delta":{"content":"a"}}]}');
    silent.chunk('{"choices":[],"usage":{}}');
    silent.chunk('[DONE]');
    silent.finishStream();
    expect(await silent.settled).toBe(bytes + 1); // the withheld usage-only chunk is no event
    // A translated Messages stream left before message_delta: message_start's zeros count no prompt.
    const messages = new UsageMeter('/v1/messages');
    const mbody = { model: 'm', max_tokens: 9, stream: true, messages: body.messages };
    messages.prepare(mbody);
    messages.chunk('{"type":"message_start","message":{"usage":{"input_tokens":0,"output_tokens":0}}}');
    messages.chunk('{"type":"content_block_delta","delta":{"text":"x"}}');
    messages.finishStream();
    expect(await messages.settled).toBe(JSON.stringify(mbody).length + 2);
  });

  it('a stream that ended with the worker’s sealed failure is charged what it was sent, not its prompt’s bytes', async () => {
    const failed = new UsageMeter('/v1/chat/completions');
    failed.prepare({ model: 'm', stream: true, messages: [{ role: 'user', content: 'word '.repeat(100) }] });
    failed.chunk('{"choices":[{"delta":{"content":"a"}}]}');
    failed.chunk('{"choices":[{"delta":{"content":"b"}}]}');
    failed.workerFailed();
    failed.finishStream();
    expect(await failed.settled).toBe(2);
    const none = new UsageMeter('/v1/chat/completions'); // failed before its first event
    none.prepare({ model: 'm', stream: true, messages: [] });
    none.workerFailed();
    none.finishStream();
    expect(await none.settled).toBe(1);
  });

  it('sums a Messages stream: input at message_start, cumulative output at message_delta', async () => {
    const meter = new UsageMeter('/v1/messages');
    meter.chunk('{"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}');
    meter.chunk('{"type":"message_delta","usage":{"output_tokens":4}}');
    meter.chunk('{"type":"message_delta","usage":{"output_tokens":7}}');
    meter.finishStream();
    expect(await meter.settled).toBe(17);
  });

  it('takes a Messages stream’s input from message_delta when larger (cumulative, as translated)', async () => {
    // The worker's translation (src/api/anthropic/stream.ts) reports 0 input at message_start and
    // the prompt's tokens only in message_delta: read from message_start alone, the prompt was free.
    const translated = new UsageMeter('/v1/messages');
    translated.chunk('{"type":"message_start","message":{"usage":{"input_tokens":0,"output_tokens":0}}}');
    translated.chunk('{"type":"message_delta","usage":{"output_tokens":4,"input_tokens":11}}');
    translated.chunk('{"type":"message_stop"}');
    translated.finishStream();
    expect(await translated.settled).toBe(15);
    // A smaller input count later does not lower the one message_start reported.
    const lower = new UsageMeter('/v1/messages');
    lower.chunk('{"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}');
    lower.chunk('{"type":"message_delta","usage":{"output_tokens":4,"input_tokens":2}}');
    lower.chunk('{"type":"message_stop"}');
    lower.finishStream();
    expect(await lower.settled).toBe(14);
  });

  it('reads a Responses stream from response.completed, and counts once only', async () => {
    const meter = new UsageMeter('/v1/responses');
    meter.chunk('{"type":"response.created","response":{"usage":null}}');
    meter.chunk(
      '{"type":"response.completed","response":{"usage":{"input_tokens":2,"output_tokens":3,"total_tokens":5}}}',
    );
    meter.finishStream();
    meter.json({ usage: { total_tokens: 99 } }); // after finish: ignored
    expect(await meter.settled).toBe(5);
  });
});

describe('limit headers', () => {
  it('writes durations as OpenAI does', () => {
    expect(duration(0)).toBe('0s');
    expect(duration(6_200)).toBe('7s');
    expect(duration(60_000)).toBe('1m0s');
    expect(duration(3_723_000)).toBe('1h2m3s');
  });

  it('sends the requests trio with an rpm, the tokens trio with a tpm, the budget with a budget', () => {
    const standing = addUsage(undefined, 400, T0);
    const headers = limitHeaders({
      limits: { rpm: 60, tpm: 1000, budgetTokens: 10_000, budgetPeriod: 'day' },
      requests: { perWindow: 10, count: 3, resetMs: 4_000 },
      standing,
      now: T0,
    });
    expect(headers).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '7',
      'x-ratelimit-reset-requests': '4s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '600',
      'x-ratelimit-reset-tokens': '30s',
      'x-sealgate-budget-limit-tokens': '10000',
      'x-sealgate-budget-remaining-tokens': '9600',
      'x-sealgate-budget-reset-tokens': '30s',
    });
    expect(Object.keys(headers).sort()).toEqual([...LIMIT_HEADER_NAMES].sort()); // all exposed by CORS
    expect(limitHeaders({ limits: { tpm: 5 }, requests: null, standing, now: T0 })).toMatchObject({
      'x-ratelimit-remaining-tokens': '0',
    });
  });
});

describe('usage windows: the UTC day and month', () => {
  it('name the UTC day and month of every instant, across day, month, year and leap-day edges', () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const edges = [
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1),
      Date.UTC(2028, 1, 28, 23, 59, 59, 999),
      Date.UTC(2028, 1, 29),
      Date.UTC(2028, 2, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      0,
      -1,
    ];
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...edges), fc.integer({ min: -(2 ** 40), max: 2 ** 42 })),
        (ms) => {
          const s = currentStanding(undefined, ms);
          expect([s.day, s.month]).toEqual([iso(ms).slice(0, 10), iso(ms).slice(0, 7)]);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
