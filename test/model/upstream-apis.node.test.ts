/**
 * Anthropic Messages and OpenAI Responses against an upstream model server: forwarded as they are
 * to one that speaks them (MODEL_NATIVE_APIS), its named SSE events passed through until the API's
 * own final event (src/api/stream-end.ts); translated to chat completions for one that does not.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelAnswer, TranslatableRoute } from '../../src/model/types.js';
import { createUpstreamModel } from '../../src/model/upstream.js';
import {
  chatChunk,
  type Handler,
  type LocalModelServer,
  sendJson,
  startLocalModelServer,
  startSse,
} from './local-model-server.js';

let server: LocalModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function upstream(handler: Handler, native: TranslatableRoute[] = []) {
  server = await startLocalModelServer(handler);
  return createUpstreamModel({ baseUrl: server.url, nativeRoutes: native });
}

async function collect(answer: ModelAnswer): Promise<string[]> {
  if (answer.kind !== 'stream') throw new Error('expected a stream');
  const out: string[] = [];
  for await (const e of answer.events) out.push(e);
  return out;
}

function named(res: ServerResponse, events: Record<string, unknown>[]): void {
  for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
}

const MESSAGE = { model: 'claude-x', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

describe('native Messages', () => {
  it('forwards the body unchanged and passes the named events through, message_stop last', async () => {
    const events = [
      { type: 'message_start', message: { id: 'msg_1' } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'yo' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } },
      { type: 'message_stop' },
    ];
    const model = await upstream(
      (_req, res) => {
        startSse(res);
        res.write('event: ping\ndata: {"type":"ping"}\n\n');
        named(res, events);
        res.end();
      },
      ['/v1/messages'],
    );
    const body = { ...MESSAGE, stream: true, top_k: 5, thinking: { type: 'enabled', budget_tokens: 1024 } };
    const got = await collect(await model.call('/v1/messages', { body }));
    expect(got.map((e) => JSON.parse(e))).toEqual(events);
    expect(server!.requests[0]!.path).toBe('/v1/messages');
    expect(server!.requests[0]!.body).toEqual(body);
  });

  it('fails a stream that stops before message_stop, or sends an error event', async () => {
    const cut = await upstream(
      (_req, res) => {
        startSse(res);
        named(res, [{ type: 'message_start', message: {} }]);
        res.end();
      },
      ['/v1/messages'],
    );
    await expect(
      collect(await cut.call('/v1/messages', { body: { ...MESSAGE, stream: true } })),
    ).rejects.toThrow(/without its end event/);
    await server!.close();
    const failed = await upstream(
      (_req, res) => {
        startSse(res);
        named(res, [
          { type: 'message_start', message: {} },
          { type: 'error', error: { type: 'overloaded_error' } },
        ]);
        res.end();
      },
      ['/v1/messages'],
    );
    await expect(
      collect(await failed.call('/v1/messages', { body: { ...MESSAGE, stream: true } })),
    ).rejects.toThrow(/model server/);
  });
});

describe('translated Messages and Responses', () => {
  it('sends a chat completion to a server that speaks only chat, and translates the answer', async () => {
    const model = await upstream((req, res) => {
      if (req.body?.stream) {
        startSse(res);
        res.write(`data: ${chatChunk('hello')}\n\n`);
        res.write(
          `data: ${chatChunk('', { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
        );
        res.write('data: [DONE]\n\n');
        res.end();
        return;
      }
      sendJson(res, 200, {
        id: 'chatcmpl-9',
        object: 'chat.completion',
        created: 1,
        model: 'claude-x',
        choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
    });
    const message = await model.call('/v1/messages', { body: MESSAGE });
    expect(message).toMatchObject({
      kind: 'json',
      body: { type: 'message', content: [{ type: 'text', text: 'hello' }] },
    });
    expect(server!.requests[0]!.path).toBe('/v1/chat/completions');
    expect(server!.requests[0]!.body).toEqual({
      model: 'claude-x',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });

    const streamed = await collect(
      await model.call('/v1/responses', { body: { model: 'x', input: 'hi', stream: true } }),
    );
    expect(JSON.parse(streamed.at(-1)!)).toMatchObject({ type: 'response.completed' });
  });
});
