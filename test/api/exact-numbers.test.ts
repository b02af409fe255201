/**
 * The API translations (run by the worker on the opened body) given numbers beyond ±(2^53 − 1),
 * which the body now carries as their source text (src/json/exact-numbers.ts): carried through
 * where the translation copies a value, refused where it needs a number or an object — never read
 * as a rounding, and never mistaken for an object (a raw value is one to `typeof`).
 */
import { describe, expect, it } from 'vitest';
import { messagesToChat } from '../../src/api/anthropic/request.js';
import { responsesToChat } from '../../src/api/responses/request.js';
import { isSealgateError } from '../../src/errors.js';
import { parseKeepingExactNumbers } from '../../src/json/exact-numbers.js';

const exact = (text: string) => parseKeepingExactNumbers(text) as Record<string, unknown>;

function refusal(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (e) {
    return isSealgateError(e, 'invalid_argument') ? e.message : `untyped ${String(e)}`;
  }
}

const SCHEMA = '{"type":"object","properties":{"n":{"type":"integer","maximum":9223372036854775807}}}';

describe('API translations and numbers beyond ±(2^53 − 1)', () => {
  it('Responses: copied values and tool schemas reach the chat body as written', () => {
    const body = exact(
      `{"model":"m","input":"hi","max_output_tokens":9007199254740993,"temperature":1e300,"tools":[{"type":"function","name":"f","parameters":${SCHEMA}}]}`,
    );
    const chat = JSON.stringify(responsesToChat(body));
    expect(chat).toContain('"max_completion_tokens":9007199254740993');
    expect(chat).toContain('"temperature":1e300');
    expect(chat).toContain(`"parameters":${SCHEMA}`);
  });

  it('Responses: a number where an object must be is refused, as any number is', () => {
    const bodies = [
      '{"model":"m","input":"hi","metadata":1e20}',
      '{"model":"m","input":"hi","text":12345678901234567890}',
      '{"model":"m","input":[1e20]}',
    ];
    for (const text of bodies)
      expect(
        refusal(() => responsesToChat(exact(text))),
        text,
      ).toMatch(/must be an object/);
  });

  it('Anthropic: max_tokens must be a number it can read; tool input_schema is carried as written', () => {
    const big = exact(
      '{"model":"m","max_tokens":9007199254740993,"messages":[{"role":"user","content":"hi"}]}',
    );
    expect(refusal(() => messagesToChat(big))).toBe('max_tokens must be a positive integer');
    const body = exact(
      `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${SCHEMA}}]}`,
    );
    expect(JSON.stringify(messagesToChat(body))).toContain(`"parameters":${SCHEMA}`);
    const meta = exact(
      '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata":1e20}',
    );
    expect(refusal(() => messagesToChat(meta))).toMatch(/metadata must be an object/);
  });
});
