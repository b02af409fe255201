/**
 * `streamEventOf` is `streamStep` and `sseEventName` from one parse: the gateway's relay uses it
 * for both, so it must agree with each on every route, hostile payloads included.
 */
import { describe, expect, it } from 'vitest';
import { isChatChunk, sseEventName, streamEventOf, streamStep } from '../../src/api/stream-end.js';

const ROUTES = ['/v1/chat/completions', '/v1/completions', '/v1/messages', '/v1/responses', 'constructor'];
const PAYLOADS = [
  '[DONE]',
  ' [DONE]',
  '{"type":"message_stop"}',
  '{"type":"error","error":{}}',
  '{"type":"response.completed","response":{}}',
  '{"type":"response.incomplete"}',
  '{"type":"response.failed"}',
  '{"type":"content_block_delta"}',
  '{"type":7}',
  '{"type":"message_stop"',
  '["message_stop"]',
  'null',
  '{"choices":[]}',
  '{"type":"__proto__"}',
];

describe('streamEventOf', () => {
  it('agrees with streamStep and sseEventName on every route and payload', () => {
    for (const route of ROUTES) {
      for (const data of PAYLOADS) {
        expect(streamEventOf(route, data), `${route} ${data}`).toEqual({
          step: streamStep(route, data),
          name: sseEventName(route, data),
        });
      }
    }
  });

  it('ends and fails each route by its own rule', () => {
    expect(streamEventOf('/v1/chat/completions', '[DONE]').step).toBe('end');
    expect(streamEventOf('/v1/messages', '[DONE]')).toEqual({ step: 'fail', name: undefined });
    expect(streamEventOf('/v1/messages', '{"type":"message_stop"}')).toEqual({
      step: 'end',
      name: 'message_stop',
    });
    expect(streamEventOf('/v1/responses', '{"type":"error"}')).toEqual({ step: 'fail', name: 'error' });
    expect(streamEventOf('/v1/responses', '{"type":"response.created"}').step).toBe('more');
  });
});

describe('isChatChunk', () => {
  it('takes JSON objects only, and none with an in-band error', () => {
    for (const data of ['{}', '{"choices":[]}', ' {"error":null} ', '{"object":"chat.completion.chunk"}']) {
      expect(isChatChunk(data), data).toBe(true);
    }
    const refused = [
      '',
      'x',
      '[DONE]',
      'null',
      '1',
      '"s"',
      '[{}]',
      '{"a":1',
      '{"error":{}}',
      '{"error":"x"}',
    ];
    for (const data of [...refused, '{"object":"error"}', '{"error":false}']) {
      expect(isChatChunk(data), data).toBe(false);
    }
  });
});
