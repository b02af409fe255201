/**
 * Review round 9: HTTP/1.1 framing shapes round 8 did not send, on a raw socket to the AI worker's
 * sealed route (src/ai-worker/node-listener.ts over Node's llhttp, strict: no insecureHTTPParser
 * anywhere). Held: each is refused by Node before any route, or framed one way only and served
 * once; a refused shape never opens the seal it carries (it still answers afterwards).
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL_ID } from '../../src/model/builtin.js';
import { post, seal } from '../ai-worker/support.js';
import { rawConnection, statusCodes } from '../support/raw-http.js';
import { type ReviewWorker, startReviewWorker } from './support.js';

const CHAT = '/v1/chat/completions';
const chat = { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'hi' }] };

async function sealedText(w: ReviewWorker): Promise<string> {
  return JSON.stringify((await seal(w.kek, CHAT, chat)).sealed);
}

const send = (w: ReviewWorker, bytes: string) => rawConnection(w.port, bytes, { idleMs: 3_000 }).received;
const chunked = (body: string, ext = '', trailer = '') =>
  `${Buffer.byteLength(body).toString(16)}${ext}\r\n${body}\r\n0\r\n${trailer}\r\n`;
/** A request head; `connection: close` so that an answered connection ends at once. */
const head = (lines: string[], eol = '\r\n', version = '1.1') =>
  [`POST ${CHAT} HTTP/${version}`, 'host: 127.0.0.1', 'connection: close', ...lines, '', ''].join(eol);

describe('framing shapes Node refuses before any route (held)', () => {
  const REFUSED: [string, (body: string) => string][] = [
    [
      'an obs-folded header',
      (b) => head(['content-type: application/json', ' ; charset=utf-8', `content-length: ${b.length}`]) + b,
    ],
    [
      'bare LF line ends',
      (b) => head(['content-type: application/json', `content-length: ${b.length}`], '\n') + b,
    ],
    [
      'a bare LF inside the chunked framing',
      (b) =>
        head(['content-type: application/json', 'transfer-encoding: chunked']) +
        `${b.length.toString(16)}\n${b}\n0\n\n`,
    ],
    [
      'a chunk size past 2^64',
      (b) =>
        head(['content-type: application/json', 'transfer-encoding: chunked']) +
        `1${'0'.repeat(16)}\r\n${b}\r\n0\r\n\r\n`,
    ],
    [
      'a 64 KiB chunk extension',
      (b) =>
        head(['content-type: application/json', 'transfer-encoding: chunked']) +
        chunked(b, `;x=${'a'.repeat(64 * 1024)}`),
    ],
    [
      'a chunk extension with a CR LF in quotes',
      (b) =>
        head(['content-type: application/json', 'transfer-encoding: chunked']) + chunked(b, ';x="a\r\nb"'),
    ],
    [
      'transfer-encoding: chunked, identity',
      (b) => head(['content-type: application/json', 'transfer-encoding: chunked, identity']) + chunked(b),
    ],
    [
      'Expect: other',
      (b) =>
        head(['content-type: application/json', `content-length: ${b.length}`, 'expect: 101-upgrade-me']) + b,
    ],
    [
      'a space before the colon',
      (b) => head(['content-type: application/json', `content-length : ${b.length}`]) + b,
    ],
  ];
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
