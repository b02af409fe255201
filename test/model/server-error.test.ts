/**
 * The model server's own error message in the dialects of the servers in use
 * (src/model/server-error.ts); anything else has none.
 */
import { describe, expect, it } from 'vitest';
import { serverErrorMessage, serverErrorText } from '../../src/model/server-error.js';

describe('serverErrorMessage', () => {
  it.each([
    [
      'OpenAI, vLLM ≥ 0.6',
      { error: { message: 'm', type: 'invalid_request_error', param: null, code: null } },
    ],
    ['Anthropic', { type: 'error', error: { type: 'invalid_request_error', message: 'm' } }],
    ['Ollama, llama.cpp', { error: 'm' }],
    ['vLLM before 0.6', { object: 'error', message: 'm', type: 'BadRequestError', code: 400 }],
    ['FastAPI', { detail: 'm' }],
  ])('%s', (_server, body) => {
    expect(serverErrorMessage(body)).toBe('m');
    expect(serverErrorText(JSON.stringify(body))).toBe('m');
  });

  it.each([
    ['not JSON', '<html>502 Bad Gateway</html>'],
    ['an array', '[{"error":"m"}]'],
    ['no message', '{"error":{"code":400}}'],
    ['a blank message', '{"error":"  "}'],
    ['FastAPI validation details (a list)', '{"detail":[{"loc":["body"],"msg":"m"}]}'],
  ])('none in %s', (_what, text) => {
    expect(serverErrorText(text)).toBeUndefined();
  });
});
