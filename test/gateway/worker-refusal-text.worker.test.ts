/**
 * A refusal from the worker's side of the network is not sealed: whoever sits between the gateway
 * and a worker can answer a sealed request with an error JSON of their own. The running gateway
 * (the Worker in workerd, the real service and worker apps behind it) handed such a text on as
 * "the AI worker refused the request: <their text>" — here, a phishing line under
 * `invalid_api_key`. Now only the worker's own fixed texts are handed on (src/gateway/sealing/
 * worker-error-text.ts); held: the real worker's refusals still say why.
 */
import { beforeEach, expect, it, vi } from 'vitest';
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
    expect(body.error.message).toBe('the AI worker refused the request (invalid_api_key)');
  });

  it.each([
    [
      'a model no worker serves',
      { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] },
      'the AI worker refused the request: this worker does not serve that model',
    ],
    [
      'a request the model refuses',
      { model: 'sealgate-builtin', messages: 'not a list' },
      "the AI worker refused the request: model call refused: invalid_request (details are in the worker's log)",
    ],
  ])('held: the real worker refusing %s still says why', async (_what, request, message) => {
    const res = await post(request);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(message);
  });
});
