/**
 * Request targets that are not the sealed route's exact bytes, sent to the AI
 * worker's port on a raw socket (src/ai-worker/node-listener.ts). The listener serves the exact
 * route itself — body budget (body-budget.ts), write-stall bound — and hands everything else to
 * Hono. Found: Hono routes `/v1/chat/completion%73`, an absolute-form target, dot segments and a
 * fragment to the same sealed route, whose handler reads the body with no in-flight budget: anyone
 * reaching the port could hold 16 MiB per connection again, past `SEALGATE_BODY_MIB_IN_FLIGHT`.
 * The gateway sends only the exact path; every other form of it is now 404 before its body is read.
 */
import { describe, expect, it } from 'vitest';
import { BodyBudget } from '../../src/ai-worker/body-budget.js';
import { BUILTIN_MODEL_ID } from '../../src/model/builtin.js';
import { seal } from '../ai-worker/support.js';
import { rawConnection, requestHead, statusCodes } from '../support/raw-http.js';
import { startReviewWorker } from './support.js';

const CHAT = '/v1/chat/completions';
const worker = (budget: BodyBudget) => startReviewWorker({ budget });

/** Every request target Hono routes to the chat route that is not its exact bytes. */
const OTHER_FORMS = [
  '/v1/chat/completion%73',
  '/v1/%63hat/completions',
  'http://127.0.0.1/v1/chat/completions',
  'http://elsewhere.invalid/v1/chat/completions',
  '/v1/./chat/completions',
  '/v1/x/../chat/completions',
  '/v1/chat/completions#x',
];

async function send(port: number, target: string, body: string): Promise<string> {
  const head = requestHead('POST', target, [
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ]);
  return rawConnection(port, head + body, { idleMs: 5_000 }).received;
}

describe('other forms of a sealed route at the worker (found)', () => {
  it.each(OTHER_FORMS)('%s: 404 before the body is read, never past the body budget', async (target) => {
    const budget = new BodyBudget(4 * 1024);
    const { port } = await worker(budget);
    const body = JSON.stringify({ pad: 'x'.repeat(64 * 1024) });
    // The exact route: refused by the budget (503).
    expect(statusCodes(await send(port, CHAT, body))).toEqual([503]);
    // Before the fix: Hono read all 64 KiB past the 4 KiB budget and answered 400.
    const answer = await send(port, target, body);
    expect(statusCodes(answer)).toEqual([404]);
    expect(answer).toContain('"code":"not_found"');
  });

  it('the exact route with a query string is still the sealed route, and answers', async () => {
    const { port, kek } = await worker(new BodyBudget());
    const { sealed } = await seal(kek, CHAT, {
      model: BUILTIN_MODEL_ID,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(statusCodes(await send(port, `${CHAT}?x=1`, JSON.stringify(sealed)))).toEqual([200]);
  });

  it('the plain routes in other forms still reach Hono (GET /v1/model%73, an absolute-form /healthz)', async () => {
    const { port } = await worker(new BodyBudget());
    const get = (target: string) =>
      rawConnection(port, `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, { idleMs: 5_000 })
        .received;
    expect(statusCodes(await get('/v1/model%73'))).toEqual([200]);
    expect(statusCodes(await get('http://127.0.0.1/healthz'))).toEqual([200]);
  });
});
