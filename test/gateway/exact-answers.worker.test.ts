/**
 * Numbers beyond ±(2^53 − 1) in a model's answer reach the client as the model wrote them, through
 * the REAL gateway Worker (workerd) and the REAL AI worker app: the gateway opens a JSON answer
 * keeping them (src/envelope/response.ts, json/exact-numbers.ts) and writes it on; a stream's
 * payloads it writes on as the text it opened. Before, the gateway opened JSON answers with a plain
 * JSON.parse and wrote `"created":9007199254740992` for the model's `9007199254740993`.
 * The AI worker's own read of a model server (src/model/upstream.ts readJson) is shown over real
 * HTTP in test/integration/model-url.node.test.ts.
 */
import { expect, it } from 'vitest';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import { callGateway, stackPerFile } from './do-helpers.js';
import { gatewayDescribe, KEY, PROMPT, type Stack, sseData } from './stack.js';

let stack: Stack;

stackPerFile({ keyed: true }, (s) => {
  stack = s;
  resetKeyCache();
});

const ask = (stream: boolean) =>
  callGateway('/v1/chat/completions', {
    method: 'POST',
    headers: KEY,
    body: JSON.stringify({ model: 'sealgate-builtin', messages: PROMPT, ...(stream ? { stream } : {}) }),
  });

/** JSON values a model or its server may fill with such numbers (a tool call's arguments are a string). */
const BIG = '"created":9007199254740993,"x_ids":[18446744073709551615,-9007199254740993,1e300]';

gatewayDescribe('numbers beyond 2^53 in answers', () => {
  it('a JSON answer: the client reads the digits the model wrote, usage counts included', async () => {
    const text = `{"id":"c",${BIG},"object":"chat.completion","model":"sealgate-builtin","choices":[{"index":0,"message":{"role":"assistant","content":"n"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":12345678901234567890}}`;
    stack.modelJson = text;
    try {
      const res = await ask(false);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(text);
    } finally {
      stack.modelJson = undefined;
    }
  });

  it('a stream: each payload reaches the client as the model wrote it', async () => {
    const chunk = `{"id":"c",${BIG},"object":"chat.completion.chunk","model":"sealgate-builtin","choices":[{"index":0,"delta":{"content":"n"},"finish_reason":null}]}`;
    stack.modelStream = [chunk, '[DONE]'];
    try {
      const res = await ask(true);
      expect(res.status).toBe(200);
      expect(await sseData(res)).toEqual([chunk, '[DONE]']);
    } finally {
      stack.modelStream = undefined;
    }
  });
});
