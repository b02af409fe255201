/**
 * Clients the team had not tried, against the REAL local stack (`startStack`: the gateway Worker
 * under `wrangler dev`), as an outside review ran them: undici's `fetch` streaming its
 * body (`duplex: 'half'`, chunked, no content-length), HTTP/1.0 with `Connection: close` over a raw
 * socket (JSON and a stream, which HTTP/1.0 cannot chunk), and a content-length that lies. Every
 * answer is a whole sealed answer or the route's own error JSON (one dev-server exception below).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_START_MS, E2E_STOP_MS, type E2eStack, startE2eStack, stopE2eStack } from './support.js';

let stack: E2eStack;
const PROMPT = 'tell me about the sealed gateway';
const BODY = JSON.stringify({ model: 'sealgate-builtin', messages: [{ role: 'user', content: PROMPT }] });

beforeAll(async () => {
  stack = await startE2eStack();
}, E2E_START_MS);
afterAll(async () => {
  if (stack) await stopE2eStack(stack);
}, E2E_STOP_MS);

/** Sends `request` bytes on a fresh TCP connection; resolves with all the server sent until it closed (or `ms`). */
function raw(request: string, opts: { halfClose?: boolean; ms?: number } = {}): Promise<string> {
  const url = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const parts: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), opts.ms ?? 20_000);
    socket.on('connect', () => {
      socket.write(request);
      if (opts.halfClose) socket.end();
    });
    socket.on('data', (d) => parts.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts).toString('utf8'));
    });
  });
}

/** An HTTP/1.x request for the chat route with `body` and these extra header lines. */
function chatRequest(version: string, body: string, headers: string[]): string {
  const url = new URL(stack.url);
  return [
    `POST /v1/chat/completions HTTP/${version}`,
    `Host: ${url.host}`,
    `Authorization: Bearer ${stack.apiKey}`,
    'Content-Type: application/json',
    ...headers,
    '',
    body,
  ].join('\r\n');
}

/** Status code, headers (lower-case names) and body of the first response in `text`. */
function firstResponse(text: string): { status: number; headers: string; body: string } {
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end);
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: text.slice(end + 4) };
}

describe('clients the team had not tried, at the running gateway', () => {
  it('undici fetch with a ReadableStream body (duplex: half, chunked, slow): a sealed answer', async () => {
    const bytes = new TextEncoder().encode(BODY);
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (at >= bytes.length) return c.close();
        await new Promise((r) => setTimeout(r, 50));
        c.enqueue(bytes.subarray(at, at + 17));
        at += 17;
      },
    });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sealgate-receipt')).toMatch(/\S/);
    const answer = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0]!.message.content).toContain(PROMPT);
  });

  it('HTTP/1.0 with Connection: close: the JSON answer, then the server closes', async () => {
    const text = await raw(chatRequest('1.0', BODY, [`Content-Length: ${BODY.length}`, 'Connection: close']));
    const { status, headers, body } = firstResponse(text);
    expect(status).toBe(200);
    expect(headers).toMatch(/content-type: application\/json/);
    expect(headers).not.toMatch(/transfer-encoding: chunked/);
    expect((JSON.parse(body) as { object: string }).object).toBe('chat.completion');
  });

  it('HTTP/1.0 and a stream: whole SSE events, close-delimited, [DONE] last', async () => {
    const streamed = JSON.stringify({ ...JSON.parse(BODY), stream: true });
    const text = await raw(chatRequest('1.0', streamed, [`Content-Length: ${streamed.length}`]));
    const { status, headers, body } = firstResponse(text);
    expect(status).toBe(200);
    expect(headers).toMatch(/content-type: text\/event-stream/);
    expect(headers).not.toMatch(/transfer-encoding: chunked/);
    // Each event's data line (the receipt comes as a comment line before [DONE]).
    const data = body
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice(6));
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(data.at(-1)).toBe('[DONE]');
    for (const d of data.slice(0, -1)) JSON.parse(d); // each a whole chunk
  });

  it('a content-length that lies: the cut body is our 400, never served', async () => {
    // Shorter: the body is cut at the declared length (not JSON); the rest is not a request.
    const shortText = await raw(chatRequest('1.1', BODY, ['Content-Length: 20', 'Connection: close']));
    const short = firstResponse(shortText);
    expect(short.status).toBe(400);
    expect(short.headers).toMatch(/content-type: application\/json/);
    expect((JSON.parse(short.body) as { error: { code: string } }).error.code).toBe('invalid_json');
    // Longer, then the client stops sending (half-close): never served. The gateway answers 400
    // invalid_request for a body that breaks off (test/gateway/bad-input.worker.test.ts); under
    // `wrangler dev` the dev server's own proxy fails first, with its 500 text/plain "Network
    // connection lost" (miniflare's entry worker, not the gateway: a dev-server limit, as the
    // lingering close was in test/e2e/hostile-http.node.test.ts).
    const text = await raw(chatRequest('1.1', BODY, [`Content-Length: ${BODY.length + 50}`]), {
      halfClose: true,
      ms: 15_000,
    });
    if (text !== '') {
      const long = firstResponse(text);
      expect(long.status).not.toBe(200);
      if (long.status === 500) expect(long.body).toMatch(/^Error: Network connection lost\./);
      else {
        expect(long.status).toBe(400);
        expect((JSON.parse(long.body) as { error: { code: string } }).error.code).toBe('invalid_request');
      }
    }
  });
});
