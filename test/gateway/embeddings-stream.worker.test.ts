/**
 * `POST /v1/embeddings` with `"stream": true` through the running gateway (the Worker in workerd,
 * the real service and worker apps behind it). No embeddings API streams; vLLM's request models
 * drop unknown fields and answer JSON, while the worker, bound by the sealed `stream`, waits for
 * SSE (src/model/upstream.ts): a 502 `model_error` that the OpenAI SDK retries twice, three model
 * calls for one request. The gateway refuses it before anything is sealed: 400 `invalid_request`
 * with `param: "stream"`, no worker call. Held: `false` and `null` are served.
 */
import { expect, it } from 'vitest';
import { callGateway as call, stackPerFile } from './do-helpers.js';
import { gatewayDescribe, KEY, type Stack, workerPosts } from './stack.js';

let stack: Stack;
const embed = (extra: Record<string, unknown>) =>
  call('/v1/embeddings', {
    method: 'POST',
    headers: KEY,
    body: JSON.stringify({ model: 'sealgate-builtin', input: 'hello', ...extra }),
  });

stackPerFile({ keyed: true, freshRecords: true }, (s) => {
  stack = s;
});

gatewayDescribe('embeddings asked to stream', () => {
  it('stream: true is refused before anything is sealed', async () => {
    const res = await embed({ stream: true });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_request', param: 'stream' } });
    expect(workerPosts(stack)).toEqual([]);
  });

  it.each([false, null])('held: stream: %s is served', async (stream) => {
    const res = await embed({ stream });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: 'list' });
    expect(workerPosts(stack)).toHaveLength(1);
  });
});
