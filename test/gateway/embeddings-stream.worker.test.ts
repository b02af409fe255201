/**
 * `POST /v1/embeddings` with `"stream": true` through the running gateway (the Worker in workerd,
 * the real service and worker apps behind it). No embeddings API streams; vLLM's request models
 * drop unknown fields and answer JSON, while the worker, bound by the sealed `stream`, waits for
 * SSE (src/model/upstream.ts): a 502 `model_error` that the OpenAI SDK retries twice, three model
 * calls for one request. The gateway refuses it before anything is sealed: 400 `invalid_request`
 * with `param: "stream"`, no worker call. Held: `false` and `null` are served.
 */
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { callGateway as call, runRotation, startFreshStack } from './do-helpers.js';
import { emptyRotationDo, gatewayDescribe, HAS_GATEWAY_BINDINGS, KEY, type Stack } from './stack.js';

let stack: Stack;
const embed = (extra: Record<string, unknown>) =>
  call('/v1/embeddings', {
    method: 'POST',
    headers: KEY,
    body: JSON.stringify({ model: 'sealgate-builtin', input: 'hello', ...extra }),
  });
const workerPosts = () => stack.calls.filter((c) => c.startsWith('POST http://worker'));

beforeAll(async () => {
  if (!HAS_GATEWAY_BINDINGS) return;
  stack = await startFreshStack();
  await runRotation(stack.dev.manifestDigest);
  await stack.session.keys.refresh();
});
beforeEach(() => {
  if (HAS_GATEWAY_BINDINGS) stack.calls.length = 0;
});
afterAll(async () => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  if (!HAS_GATEWAY_BINDINGS) return;
  await emptyRotationDo(stack.dev.manifestDigest);
});

gatewayDescribe('embeddings asked to stream', () => {
  it('stream: true is refused before anything is sealed', async () => {
    const res = await embed({ stream: true });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_request', param: 'stream' } });
    expect(workerPosts()).toEqual([]);
  });

  it.each([false, null])('held: stream: %s is served', async (stream) => {
    const res = await embed({ stream });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: 'list' });
    expect(workerPosts()).toHaveLength(1);
  });
});
