/**
 * What a metered key is charged for a streamed answer on the translated routes, against what the
 * model reported: the gateway Worker, the REAL worker and its built-in model (which counts the
 * prompt's words as `prompt_tokens`), the real KeyUsage Durable Object.
 *
 * A Messages stream translated from a chat completion learns its usage only at the end, so its
 * `message_start` says `input_tokens: 0` and its `message_delta` carries the input and output
 * counts (Anthropic's counts there are cumulative). The meter read only `message_delta`'s output:
 * a 400-word prompt with `max_tokens: 1` was charged 1 token, so a metered key's prompts went free
 * on `POST /v1/messages` with `"stream": true`. Held: the JSON answer and the Responses stream
 * were charged prompt and answer.
 */
import { beforeEach, expect, it } from 'vitest';
import { resetApiKeyCache } from '../../src/gateway/kv/api-keys.js';
import { resetStandingCache } from '../../src/gateway/limits/standing-cache.js';
import { keyStanding, putApiKey, sendWithKey, stackPerFile } from './do-helpers.js';
import { sseObjects as events, gatewayDescribe } from './stack.js';

const PROMPT = 'word '.repeat(400);
const MESSAGE = {
  model: 'sealgate-builtin',
  max_tokens: 1,
  messages: [{ role: 'user', content: PROMPT }],
};

/** A new key with a daily budget far above what the test spends. */
const meteredKey = () => putApiKey('metering-test', { budgetTokens: 1_000_000, budgetPeriod: 'day' });

/** One request, read to its end, then its `waitUntil` work (the meter's charge) awaited. */
async function send(path: string, key: string, body: unknown): Promise<string> {
  const { res, text } = await sendWithKey(path, key, body);
  expect(res.status).toBe(200);
  return text;
}

const charged = async (hash: string): Promise<number> => (await keyStanding(hash)).dayTokens;

stackPerFile({ keyed: true, secondsAfterRotation: 6 });
beforeEach(() => {
  resetApiKeyCache();
  resetStandingCache();
});

gatewayDescribe('a translated stream is charged its prompt too', () => {
  it('held: a Messages JSON answer is charged input and output tokens', async () => {
    const { key, hash } = await meteredKey();
    const body = JSON.parse(await send('/v1/messages', key, MESSAGE)) as {
      usage: { input_tokens: number; output_tokens: number };
    };
    expect(body.usage.input_tokens).toBeGreaterThanOrEqual(400);
    expect(await charged(hash)).toBe(body.usage.input_tokens + body.usage.output_tokens);
  });

  it('a Messages stream is charged the input tokens its message_delta reports', async () => {
    const { key, hash } = await meteredKey();
    const text = await send('/v1/messages', key, { ...MESSAGE, stream: true });
    expect(text).toContain('message_stop');
    const delta = events(text).find((e) => e.type === 'message_delta') as {
      usage: { input_tokens: number; output_tokens: number };
    };
    expect(delta.usage.input_tokens).toBeGreaterThanOrEqual(400);
    expect(await charged(hash)).toBe(delta.usage.input_tokens + delta.usage.output_tokens);
  });

  it('held: a Responses stream (cut by max_output_tokens) is charged its total', async () => {
    const { key, hash } = await meteredKey();
    const text = await send('/v1/responses', key, {
      model: 'sealgate-builtin',
      input: PROMPT,
      max_output_tokens: 1,
      stream: true,
    });
    // max_output_tokens cut the answer: its final event is response.incomplete, usage and all.
    const done = events(text).find((e) => e.type === 'response.incomplete') as {
      response: { usage: { total_tokens: number } };
    };
    expect(done.response.usage.total_tokens).toBeGreaterThan(400);
    expect(await charged(hash)).toBe(done.response.usage.total_tokens);
  });
});
