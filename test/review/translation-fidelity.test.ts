/**
 * A translation (Responses → chat completions, src/api/responses/request.ts) never drops what it
 * cannot carry: what the model server is sent must hold everything the client wrote, or the request
 * is refused. An assistant message's content parts become one string in chat completions; an image
 * part there has no text, and was dropped: `[{type: "input_image", …}]` reached the model as
 * `content: ""`, and a text part beside it arrived without the image. Held: the same parts in a
 * user message are carried as chat content parts.
 *
 * Anthropic's `cache_control` (a prompt-caching hint: what the server may reuse, not what it
 * answers) was dropped on content blocks but refused on tools, where caching clients put it on the
 * last tool: such a request was a 400. It is dropped on both now, and nothing else of the tool.
 */
import { describe, expect, it } from 'vitest';
import { messagesToChat } from '../../src/api/anthropic/request.js';
import { responsesToChat } from '../../src/api/responses/request.js';
import { SealgateError } from '../../src/errors.js';

const IMAGE = { type: 'input_image', image_url: 'https://example.test/cat.png' };
const TEXT = { type: 'output_text', text: 'Here it is:' };

function refusal(body: Record<string, unknown>): unknown {
  try {
    return { sent: responsesToChat(body) };
  } catch (e) {
    return e instanceof SealgateError ? e.code : e;
  }
}

describe('Responses input: nothing dropped on the way to chat completions', () => {
  it.each([
    ['an image alone', [IMAGE]],
    ['text and an image', [TEXT, IMAGE]],
  ])('an assistant message with %s is refused', (_what, content) => {
    const body = { model: 'm', input: [{ type: 'message', role: 'assistant', content }] };
    expect(refusal(body)).toBe('invalid_argument');
  });

  it('held: the same parts in a user message are carried', () => {
    const chat = responsesToChat({ model: 'm', input: [{ role: 'user', content: [TEXT, IMAGE] }] });
    expect(chat.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Here it is:' },
          { type: 'image_url', image_url: { url: 'https://example.test/cat.png' } },
        ],
      },
    ]);
  });

  it('held: an assistant message of text parts is one string', () => {
    const chat = responsesToChat({
      model: 'm',
      input: [{ role: 'assistant', content: [TEXT, { type: 'input_text', text: ' done.' }] }],
    });
    expect(chat.messages).toEqual([{ role: 'assistant', content: 'Here it is: done.' }]);
  });
});

describe('Messages: cache_control, a caching hint, is dropped alike on blocks and tools', () => {
  const tool = { name: 'get', description: 'd', input_schema: { type: 'object' } };
  const ask = {
    model: 'm',
    max_tokens: 8,
    system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] },
    ],
  };

  it('a tool with cache_control is translated whole but the hint', () => {
    const chat = messagesToChat({ ...ask, tools: [{ ...tool, cache_control: { type: 'ephemeral' } }] });
    expect(chat.tools).toEqual([
      { type: 'function', function: { name: 'get', description: 'd', parameters: { type: 'object' } } },
    ]);
    expect(chat.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    ]);
  });

  it('held: any other unknown tool field is refused', () => {
    expect(() => messagesToChat({ ...ask, tools: [{ ...tool, strict: true }] })).toThrow(SealgateError);
  });
});

describe('Messages: a field on a block that the translation cannot carry is refused, not dropped', () => {
  const base = { model: 'm', max_tokens: 8 };
  const user = (content: unknown[]) => ({ ...base, messages: [{ role: 'user', content }] });
  const refused = (body: Record<string, unknown>, field: string) => {
    let error: unknown;
    try {
      messagesToChat(body);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SealgateError);
    expect((error as SealgateError).message).toContain(field);
  };

  it('citations on a text block, in a user or an assistant turn and in the system prompt', () => {
    // An answer's text block that cites nothing says `"citations": null`: sent back, it passes.
    for (const nothing of [null, []]) {
      const echoed = { type: 'text', text: 'x', citations: nothing };
      expect(
        messagesToChat({ ...base, messages: [{ role: 'assistant', content: [echoed] }] }).messages,
      ).toEqual([{ role: 'assistant', content: 'x' }]);
    }
    const cited = { type: 'text', text: 'x', citations: [{ type: 'char_location', cited_text: 'x' }] };
    refused(user([cited]), 'content[0].citations');
    refused({ ...base, messages: [{ role: 'assistant', content: [cited] }] }, 'content[0].citations');
    refused({ ...base, system: [cited], messages: [{ role: 'user', content: 'hi' }] }, 'system[0].citations');
  });

  it('unknown fields on image, tool_use, tool_result and an image source', () => {
    const image = { type: 'image', source: { type: 'url', url: 'https://example.test/a.png' } };
    refused(user([{ ...image, detail: 'high' }]), 'content[0].detail');
    refused(user([{ ...image, source: { ...image.source, media_type: 'image/png' } }]), 'source.media_type');
    const call = { type: 'tool_use', id: 't1', name: 'get', input: {} };
    refused(
      { ...base, messages: [{ role: 'assistant', content: [{ ...call, caller: 'x' }] }] },
      'content[0].caller',
    );
    refused(user([{ type: 'tool_result', tool_use_id: 't1', content: 'ok', extra: 1 }]), 'content[0].extra');
    refused(
      user([
        {
          type: 'tool_result',
          tool_use_id: 't1',
          content: [{ type: 'text', text: 'ok', citations: [{ type: 'char_location' }] }],
        },
      ]),
      'content[0].content[0].citations',
    );
  });

  it('held: the fields it translates, and cache_control on every block, pass', () => {
    const hint = { cache_control: { type: 'ephemeral' } };
    const chat = messagesToChat({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look', ...hint },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' }, ...hint },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 't1', name: 'get', input: { a: 1 }, ...hint }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok', ...hint }] },
      ],
    });
    expect(chat.messages).toHaveLength(3);
  });
});

describe('Responses: a field on an item or a part that the translation cannot carry is refused', () => {
  const refusedField = (input: unknown[], field: string) => {
    let error: unknown;
    try {
      responsesToChat({ model: 'm', input });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SealgateError);
    expect((error as SealgateError).message).toContain(field);
  };

  it("held: the last answer's output items sent back (id, status, empty annotations and logprobs)", () => {
    const chat = responsesToChat({
      model: 'm',
      input: [
        { role: 'user', content: 'hi' },
        {
          id: 'msg_1',
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'hello', annotations: [], logprobs: [] }],
        },
        {
          id: 'fc_1',
          type: 'function_call',
          status: 'completed',
          call_id: 'c1',
          name: 'get',
          arguments: '{}',
        },
        { type: 'function_call_output', call_id: 'c1', output: 'ok' },
      ],
    });
    expect(chat.messages).toHaveLength(4);
  });

  it('unknown fields on a message, a function call, its output, a text or an image part', () => {
    refusedField([{ role: 'user', content: 'hi', name: 'bob' }], 'input[0].name');
    refusedField(
      [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', extra: 1 }],
      'input[0].extra',
    );
    refusedField([{ type: 'function_call_output', call_id: 'c', output: 'x', extra: 1 }], 'input[0].extra');
    refusedField(
      [{ role: 'user', content: [{ type: 'input_text', text: 'x', cache: true }] }],
      'content[0].cache',
    );
    refusedField(
      [
        {
          role: 'user',
          content: [{ type: 'input_image', image_url: 'https://example.test/a.png', file_id: 'f' }],
        },
      ],
      'content[0].file_id',
    );
    refusedField(
      [
        {
          role: 'assistant',
          content: [{ type: 'output_text', text: 'x', annotations: [{ type: 'url_citation', url: 'u' }] }],
        },
      ],
      'content[0].annotations',
    );
  });
});
