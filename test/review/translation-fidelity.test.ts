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
