/**
 * Per-key limits and unknown models as the official SDKs see them, against the REAL local stack
 * (`wrangler dev` with the Workers Rate Limiting binding and the KeyUsage Durable Object, the
 * attestation service and AI worker on SIMULATED hardware) whose worker calls a recording model
 * server that answers 404 for a model it does not serve, as OpenAI's does.
 *
 * Keys are made with `sealgate apikey create --local` while the stack runs (sealed under the stack's
 * own GATEWAY_SECRET, its dev dir's `gateway-secret`): no restart. The openai
 * SDK retries a 429 rate_limit_exceeded after its Retry-After and surfaces insufficient_quota at
 * once (`x-should-retry: false`); every route answers an unknown model 404 in its own error shape.
 */
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { type RecordingModel, startRecordingModel } from './recording-model.js';
import { E2E_START_MS, E2E_STOP_MS, type E2eStack, startE2eStack, stopE2eStack } from './support.js';

const MODEL = 'sealgate-builtin';
const CHAT = { model: MODEL, messages: [{ role: 'user' as const, content: 'hi there' }] };

let recorder: RecordingModel;
let stack: E2eStack;

beforeAll(async () => {
  recorder = await startRecordingModel();
  stack = await startE2eStack({ modelUrl: recorder.url });
}, E2E_START_MS);

afterAll(() => stopE2eStack(stack, { beside: [recorder] }), E2E_STOP_MS);

/** The running stack's local KV, and the GATEWAY_SECRET its gateway checks `apikey:` entries under. */
const stackTarget = () => [
  '--secret-file',
  join(stack.dir, 'dev', 'gateway-secret'),
  '--local',
  '--persist-to',
  join(stack.dir, 'wrangler-state'),
];

/** A key made as an operator makes one, into the running stack's local KV. */
async function createKey(limits: string[]): Promise<string> {
  const r = await runCli(['apikey', 'create', '--name', 'e2e', ...limits, ...stackTarget()]);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** An openai client whose every HTTP attempt is counted. */
function counted(apiKey: string, maxRetries: number) {
  const attempts: number[] = [];
  const client = new OpenAI({
    baseURL: `${stack.url}/v1`,
    apiKey,
    maxRetries,
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      attempts.push(res.status);
      return res;
    },
  });
  return { client, attempts };
}

const rejection = <T>(p: Promise<T>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('per-key limits through the openai SDK', () => {
  it('a limited key’s answers carry OpenAI’s rate-limit headers; over the rpm the SDK waits Retry-After and retries', async () => {
    const key = await createKey(['--rpm', '6']); // 1 request per 10 s window
    const { client, attempts } = counted(key, 3);
    const first = await client.chat.completions.create(CHAT).withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('6');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/);
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
    // The next request lands in the same window (or, rarely, the next one with the one after):
    // whichever is refused, the SDK waits the Retry-After it was given and its retry succeeds.
    for (let i = 0; i < 2; i++) {
      const answer = await client.chat.completions.create(CHAT);
      expect(answer.choices[0]?.message.content).toContain('hi there');
    }
    expect(attempts).toContain(429);
    expect(attempts.at(-1)).toBe(200);
  }, 90_000);

  it('over the budget the SDK does not retry: the app sees RateLimitError insufficient_quota', async () => {
    const key = await createKey(['--budget-tokens', '1', '--budget-period', 'day']);
    const { client, attempts } = counted(key, 3);
    await client.chat.completions.create(CHAT); // counted when it ends, off the request path
    let error: unknown;
    for (let i = 0; i < 20 && error === undefined; i++) {
      error = await rejection(client.chat.completions.create(CHAT));
    }
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
    expect(attempts.at(-1)).toBe(429);
    expect(attempts.at(-2)).toBe(200); // the refused request was not retried
  }, 60_000);

  it('the Anthropic SDK sees the budget as its RateLimitError, in Anthropic’s shape', async () => {
    const key = await createKey(['--budget-tokens', '1', '--budget-period', 'month']);
    const client = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 2 });
    const message = { model: MODEL, max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };
    await client.messages.create(message);
    let error: unknown;
    for (let i = 0; i < 20 && error === undefined; i++)
      error = await rejection(client.messages.create(message));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', code: 'insufficient_quota' },
    });
  }, 60_000);
});

describe('apikey update on the running stack', () => {
  it('a new limit reaches the gateway within its 30 s key cache, without a restart', async () => {
    const key = await createKey([]);
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const before = await client.chat.completions.create(CHAT).withResponse();
    expect(before.response.headers.get('x-sealgate-budget-limit-tokens')).toBeNull();
    const updated = await runCli([
      'apikey',
      'update',
      '--key',
      key,
      '--budget-tokens',
      '1',
      '--budget-period',
      'day',
      ...stackTarget(),
    ]);
    expect(updated.exitCode, updated.stderr).toBe(0);
    const started = Date.now();
    let error: unknown;
    while (error === undefined && Date.now() - started < 45_000) {
      error = await rejection(client.chat.completions.create(CHAT));
      if (error === undefined) await new Promise((r) => setTimeout(r, 1_000));
    }
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
  }, 90_000);
});

describe('an unknown model is 404 on every route, in the route’s own shape', () => {
  const openai = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.apiKey, maxRetries: 0 });
  const notFound = (e: unknown) => {
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect((e as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found');
    // The model server's own words, sealed from the worker to the gateway (docs/protocol.md).
    expect((e as InstanceType<typeof OpenAI.APIError>).message).toBe('404 The model `nope` does not exist');
  };

  it('openai: chat (plain and streamed), completions, embeddings, responses, transcriptions', async () => {
    const c = openai();
    notFound(await rejection(c.chat.completions.create({ ...CHAT, model: 'nope' })));
    notFound(await rejection(c.chat.completions.create({ ...CHAT, model: 'nope', stream: true })));
    notFound(await rejection(c.completions.create({ model: 'nope', prompt: 'hi' })));
    notFound(await rejection(c.embeddings.create({ model: 'nope', input: 'hi' })));
    notFound(await rejection(c.responses.create({ model: 'nope', input: 'hi' })));
    notFound(await rejection(c.responses.create({ model: 'nope', input: 'hi', stream: true })));
    const file = await toFile(Buffer.alloc(1000, 1), 'a.wav', { type: 'audio/wav' });
    notFound(await rejection(c.audio.transcriptions.create({ model: 'nope', file })));
  }, 60_000);

  it('anthropic: messages, plain and streamed', async () => {
    const c = new Anthropic({ baseURL: stack.url, apiKey: stack.apiKey, maxRetries: 0 });
    const message = { model: 'nope', max_tokens: 8, messages: [{ role: 'user' as const, content: 'x' }] };
    for (const stream of [false, true]) {
      const e = await rejection(c.messages.create({ ...message, stream }));
      expect(e).toBeInstanceOf(Anthropic.NotFoundError);
      expect((e as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
        error: {
          type: 'not_found_error',
          code: 'model_not_found',
          message: 'The model `nope` does not exist',
        },
      });
    }
  }, 60_000);
});
