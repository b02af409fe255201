/**
 * A key rotation during a running stream loses nothing, end to end: the REAL local stack
 * (`startStack`: gateway Worker under `wrangler dev` with its key-rotation Durable Object, attestation
 * service and AI worker on SIMULATED hardware) in front of a local OpenAI-compatible model server
 * (node:http, vLLM's SSE framing) that holds its stream open until the test lets it go.
 *
 * Nothing lets a test make the Durable Object rotate "now": each alarm rotates only once the newest
 * key is within `overlapSeconds` of its successor's start (src/gateway/durable-objects/key-rotation.ts), and
 * `/__scheduled` only makes sure an alarm exists. So the stack runs a dev manifest with the
 * shortest rotation the manifest parser allows (interval 60 s = LIMITS.rotationIntervalSeconds.min)
 * and the test waits, by observation, for the rotation to happen: first the service holds the
 * uploaded successor, then the gateway seals new requests under it. Order is proven by events.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSseStream } from '../../src/model/sse.js';
import { LIMITS } from '../../src/policy/manifest-fields.js';
import {
  chatChunk,
  type LocalModelServer,
  sendJson,
  signal,
  startLocalModelServer,
  startSse,
  writeData,
} from '../model/local-model-server.js';
import {
  E2E_START_MS,
  E2E_STOP_MS,
  type E2eStack,
  startE2eStack,
  stopE2eStack,
  waitUntil,
} from './support.js';

const CHAT = '/v1/chat/completions';
const MODEL = 'local-model';
/** Shortest rotation the parser allows; the old key stays openable well past the switch. */
const KEY_POLICY = {
  rotationIntervalSeconds: LIMITS.rotationIntervalSeconds.min,
  overlapSeconds: 30,
  lifetimeSeconds: 240,
};
/** What the model streams: two words before the rotation, the rest after. */
const BEFORE = ['Sealed', ' streams'];
const AFTER = [' outlive', ' a', ' key', ' rotation', '.'];

let model: LocalModelServer;
let stack: E2eStack;
const events: string[] = [];
/** The test's go-ahead for the held stream's remaining chunks. */
const release = signal();

async function holdingStream(res: ServerResponse): Promise<void> {
  startSse(res);
  for (const word of BEFORE) await writeData(res, chatChunk(word));
  events.push('model: wrote the first chunks, holds the rest');
  await release.promise;
  events.push('model: writes the rest');
  for (const word of AFTER) await writeData(res, chatChunk(word));
  await writeData(res, chatChunk('', { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
  res.end('data: [DONE]\n\n');
}

beforeAll(async () => {
  model = await startLocalModelServer(async (req, res) => {
    if (req.method === 'GET' && req.path === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: [{ id: MODEL, object: 'model', created: 1, owned_by: 'test' }],
      });
    }
    if (req.method !== 'POST' || req.path !== CHAT) return sendJson(res, 404, { error: { message: 'no' } });
    if (req.body?.stream === true) return holdingStream(res);
    const last = req.body?.messages?.at?.(-1)?.content;
    sendJson(res, 200, {
      id: 'chatcmpl-local',
      object: 'chat.completion',
      created: 1,
      model: req.body?.model,
      choices: [
        { index: 0, message: { role: 'assistant', content: `echo: ${last}` }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
  });
  stack = await startE2eStack({ modelUrl: model.url, keyPolicy: KEY_POLICY, workerPollIntervalMs: 500 });
}, E2E_START_MS);

afterAll(async () => {
  release.fire(); // never leave the model's stream hanging
  await stopE2eStack(stack, { ranWorkerd: true, beside: [model] });
}, E2E_STOP_MS);

function chat(content: string, stream = false): Promise<Response> {
  return fetch(`${stack.url}${CHAT}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, stream, messages: [{ role: 'user', content }] }),
  });
}

interface ServiceKey {
  kid: string;
  notBefore: number;
  notAfter: number;
}

async function serviceKeys(): Promise<ServiceKey[]> {
  const res = await fetch(`${stack.serviceUrl}/v1/keys`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { keys: ServiceKey[] }).keys;
}

describe('a key rotation during a running stream', () => {
  it('the stream delivers every chunk and [DONE] in order; new requests use the new key while the old one still opens', async () => {
    // 1. A streamed chat through the gateway, sealed under the current key.
    const streamed = await chat('stream across a rotation', true);
    expect(streamed.status).toBe(200);
    const oldKid = streamed.headers.get('x-sealgate-key-id');
    expect(oldKid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(streamed.body).not.toBeNull();
    const sse = parseSseStream(streamed.body as ReadableStream<Uint8Array>);
    const received: string[] = [];
    const next = async () => {
      const { value, done } = await sse.next();
      expect(done).toBe(false);
      received.push((value as { data: string }).data);
      return (value as { data: string }).data;
    };
    for (let i = 0; i < BEFORE.length; i++) await next();
    events.push('client: read the first chunks');
    expect(received.map((d) => JSON.parse(d).choices[0].delta.content)).toEqual(BEFORE);

    // 2. The rotation: the Durable Object uploads the successor to the service ahead of time…
    // One bound for the whole wait (it only bounds a hang; a rotation is due ~60 s after the first key).
    const deadline = Date.now() + 150_000;
    const before = await serviceKeys();
    expect(before.map((k) => k.kid)).toContain(oldKid);
    const successor = await waitUntil(
      'the service holds the successor key',
      async () => (await serviceKeys()).find((k) => k.kid !== oldKid),
      { deadlineMs: deadline - Date.now() },
    );
    events.push('service: holds the successor');
    // …and once it is current, the gateway seals NEW requests under it.
    const rotated = await waitUntil(
      'the gateway seals under a new key',
      async () => {
        const res = await chat('which key now?');
        expect(res.status).toBe(200);
        const kid = res.headers.get('x-sealgate-key-id');
        const body = await res.json();
        return kid === oldKid ? undefined : { kid, body };
      },
      { deadlineMs: deadline - Date.now() },
    );
    events.push('gateway: seals under the new key');
    expect(rotated.kid).toBe(successor.kid);
    expect(rotated.body.choices[0].message.content).toBe('echo: which key now?');

    // 3. Let the model finish: the client gets every chunk and [DONE], in order.
    release.fire();
    for (;;) {
      const data = await next();
      if (data === '[DONE]') break;
    }
    events.push('client: [DONE]');
    expect((await sse.next()).done).toBe(true);
    const chunks = received.slice(0, -1).map((d) => JSON.parse(d));
    expect(received.at(-1)).toBe('[DONE]');
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe([...BEFORE, ...AFTER].join(''));
    expect(chunks.map((c) => c.choices[0].delta.content)).toEqual([...BEFORE, ...AFTER, undefined]);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
    expect(chunks.every((c) => c.error === undefined)).toBe(true);
    expect(events).toEqual([
      'model: wrote the first chunks, holds the rest',
      'client: read the first chunks',
      'service: holds the successor',
      'gateway: seals under the new key',
      'model: writes the rest',
      'client: [DONE]',
    ]);

    // 4. After the rotation: a new request succeeds under the new key id, and the old key is still
    // within its overlap — the service still holds it and it has not expired.
    const after = await chat('after the rotation');
    expect(after.status).toBe(200);
    expect(after.headers.get('x-sealgate-key-id')).toBe(successor.kid);
    expect((await after.json()).choices[0].message.content).toBe('echo: after the rotation');
    const now = Math.floor(Date.now() / 1000);
    const keys = await serviceKeys();
    const old = keys.find((k) => k.kid === oldKid);
    const current = keys.find((k) => k.kid === successor.kid);
    expect(old).toBeDefined();
    expect(old?.notAfter).toBeGreaterThan(now);
    expect(current?.notBefore).toBeLessThanOrEqual(now);
    expect(current?.notBefore).toBeGreaterThan(old?.notBefore ?? Number.POSITIVE_INFINITY);
    expect(current?.notBefore).toBeLessThan(old?.notAfter ?? 0); // the two windows overlap
  }, 240_000);
});
