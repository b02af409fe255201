/**
 * HTTP/1.1 framing shapes, on a raw socket to the AI worker's
 * sealed route (src/ai-worker/node-listener.ts over Node's llhttp, strict: no insecureHTTPParser
 * anywhere). Held: each is refused by Node before any route, or framed one way only and served
 * once; a refused shape never opens the seal it carries (it still answers afterwards).
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_ID } from '../../src/model/builtin.js';
import { post, seal } from '../ai-worker/support.js';
import { rawConnection, statusCodes } from '../support/raw-http.js';
import { chunked, malformedFramings, postHead, type ReviewWorker, startReviewWorker } from './support.js';

const CHAT = '/v1/chat/completions';
const chat = { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'hi' }] };

async function sealedText(w: ReviewWorker): Promise<string> {
  return JSON.stringify((await seal(w.kek, CHAT, chat)).sealed);
}

const send = (w: ReviewWorker, bytes: string) => rawConnection(w.port, bytes, { idleMs: 3_000 }).received;
const head = (lines: string[], eol = '\r\n', version = '1.1') => postHead(CHAT, lines, eol, version);

describe('framing shapes Node refuses before any route (held)', () => {
  const REFUSED = malformedFramings(CHAT);
  it.each(REFUSED)('%s: a 4xx from Node, the seal unspent', async (_label, shape) => {
    const w = await startReviewWorker();
    const body = await sealedText(w);
    const codes = statusCodes(await send(w, shape(body)));
    expect(codes).toHaveLength(1);
    expect(codes[0]).toBeGreaterThanOrEqual(400);
    expect(codes[0]).toBeLessThan(500);
    expect((await post(w.url, CHAT, body)).status).toBe(200);
  });
});

describe('framing shapes served once, as framed (held)', () => {
  it('chunk extensions and trailers: served, and only once', async () => {
    const w = await startReviewWorker();
    const body = await sealedText(w);
    const shape =
      head(['content-type: application/json', 'transfer-encoding: chunked', 'trailer: x-t']) +
      chunked(body, ';name=value;q="a b"', 'x-t: 1\r\ncontent-type: text/plain\r\n');
    expect(statusCodes(await send(w, shape))).toEqual([200]);
    expect((await post(w.url, CHAT, body)).status).toBe(409); // replay_detected: it was opened once
  });

  it('a chunk size written with 1000 leading zeros: the same length, served once', async () => {
    const w = await startReviewWorker();
    const body = await sealedText(w);
    const shape =
      head(['content-type: application/json', 'transfer-encoding: chunked']) +
      `${'0'.repeat(1000)}${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    expect(statusCodes(await send(w, shape))).toEqual([200]);
    expect((await post(w.url, CHAT, body)).status).toBe(409);
  });

  it('HTTP/1.0 with a body and no Content-Length: no body (400), the body never read as a request', async () => {
    const w = await startReviewWorker();
    const body = await sealedText(w);
    const answer = await send(w, head(['content-type: application/json'], '\r\n', '1.0') + body);
    expect(statusCodes(answer)).toEqual([400]);
    expect((await post(w.url, CHAT, body)).status).toBe(200);
  });

  it('Expect: 100-continue on an oversized Content-Length: 413 without reading the body', async () => {
    const w = await startReviewWorker();
    const answer = await send(
      w,
      head(['content-type: application/json', `content-length: ${64 * 1024 * 1024}`, 'expect: 100-continue']),
    );
    expect(statusCodes(answer).filter((c) => c !== 100)).toEqual([413]);
  });
});
