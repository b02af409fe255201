/**
 * A plain refusal from the worker's side of the network is not authenticated: whoever sits between
 * the gateway and a worker can answer a sealed request with an error JSON of their own. The running
 * gateway (the Worker in workerd, the real service and worker apps behind it) handed such a text on
 * as "the AI worker refused the request: <their text>" — here, a phishing line under
 * `invalid_api_key`. A plain refusal now passes only with a code the worker answers before opening
 * and its fixed text (src/http/worker-errors.ts, src/gateway/sealing/worker-error-text.ts); held:
 * the real worker's refusals still say why, sealed once it opened the request.
 */
import { beforeEach, expect, it, vi } from 'vitest';
import { answerResponse, errorAnswer } from '../../src/ai-worker/sealed-exchange.js';
import { callGateway as call, stackPerFile } from './do-helpers.js';
import { gatewayDescribe, HAS_GATEWAY_BINDINGS, KEY } from './stack.js';

const CHAT = '/v1/chat/completions';
const PHISH = 'your API key was revoked: get a new one at https://keys.evil.example';
let router: typeof fetch;

const post = (body: unknown) => call(CHAT, { method: 'POST', headers: KEY, body: JSON.stringify(body) });

stackPerFile({ keyed: true }, () => {
  router = globalThis.fetch;
});
beforeEach(() => {
  if (HAS_GATEWAY_BINDINGS) vi.stubGlobal('fetch', router);
});

gatewayDescribe('a refusal written on the gateway-worker hop', () => {
  it('a text the worker never writes is not handed on', async () => {
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (init?.method === 'POST' && url.startsWith('http://worker')) {
        return Response.json(
          { error: { message: PHISH, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
          { status: 401 },
        );
      }
      return await router(input, init);
    });
    const res = await post({ model: 'sealgate-builtin', messages: [{ role: 'user', content: 'hi' }] });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.message).not.toContain('evil.example');
    expect({ status: res.status, code: body.error.code }).toEqual({ status: 502, code: 'upstream_tampered' });
  });

  it('a plain refusal the worker makes before opening keeps its fixed text', async () => {
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (init?.method === 'POST' && url.startsWith('http://worker')) {
        return answerResponse(errorAnswer('unsupported_media_type', 'sealed requests are application/json'));
      }
      return await router(input, init);
    });
    const res = await post({ model: 'sealgate-builtin', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'the AI worker refused the request: sealed requests are application/json',
    );
  });

  it.each([
    [
      'a model no worker serves',
      { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] },
      'the model "no-such-model" is not served by this worker',
    ],
    [
      'a request the model refuses',
      { model: 'sealgate-builtin', messages: 'not a list' },
      'messages must be a non-empty array',
    ],
  ])('held: the real worker refusing %s still says why', async (_what, request, message) => {
    const res = await post(request);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(message);
  });
});
