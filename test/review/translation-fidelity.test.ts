/**
 * A translation (Responses → chat completions, src/api/responses/request.ts) never drops what it
 * cannot carry: what the model server is sent must hold everything the client wrote, or the request
 * is refused. An assistant message's content parts become one string in chat completions; an image
 * part there has no text, and was dropped: `[{type: "input_image", …}]` reached the model as
 * `content: ""`, and a text part beside it arrived without the image. Held: the same parts in a
 * user message are carried as chat content parts.
 */
import { describe, expect, it } from 'vitest';
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
