/**
 * Hostile HTTP against the REAL local stack (`startStack`, what `npm start` runs: the gateway
 * Worker under `wrangler dev`), sent with the real `curl` binary as the outside review sends it.
 * Each answer must be the route's own error JSON with its closed code — never the dev server's
 * 500 text/plain, never an empty reply. Without the checks pinned here:
 * - a body over the limit came back, about one time in two, as 500 text/plain "Network connection
 *   lost" or an empty reply: the gateway cancelled the body the client was still sending (fixed
 *   by reading on, bounded: src/http/read-limited.ts OVERSIZE_DRAIN_BYTES);
 * - a gzip body was read as garbage (400 invalid_json); HEAD /healthz was 405;
 * - SDK calls the team had not tried: openai `models.retrieve` (404, no such route) and Anthropic
 *   `messages.countTokens` (a 404 in OpenAI's error shape).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, type E2eStack, startE2eStack } from './support.js';

let stack: E2eStack;
let dir: string;
const GOOD = JSON.stringify({ model: 'sealgate-builtin', messages: [{ role: 'user', content: 'hi' }] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-hostile-'));
  stack = await startE2eStack();
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  if (!stack) return;
  const { leftover } = await stack.stop();
  expect(leftover).toEqual([]);
}, 60_000);

interface Answer {
  status: number;
  type: string;
  body: string;
  curlExit: number | null;
}

/** curl's arguments for a transcription of `file` (no `Expect: 100-continue`). */
const upload = (file: string) => ['-H', 'expect:', '-F', `file=@${file}`, '-F', 'model=sealgate-builtin'];

/** POST (or another method) with curl; the body from a file, so sizes are exact. */
async function send(path: string, args: string[], body?: Uint8Array | string): Promise<Answer> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const extra: string[] = [];
  if (body !== undefined) {
    const file = join(dir, `in-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, body);
    extra.push('--data-binary', `@${file}`);
  }
  const r = await curl([
    '--max-time',
    '60',
    '-o',
    out,
    '-w',
    '%{http_code} %{content_type}',
    '-H',
    `authorization: Bearer ${stack.apiKey}`,
    ...args,
    ...extra,
    `${stack.url}${path}`,
  ]);
  const [status, type] = r.stdout.split(' ');
  const text = await readFile(out, 'utf8').catch(() => '');
  return { status: Number(status), type: type ?? '', body: text, curlExit: r.code };
}

function expectError(a: Answer, status: number, code: string, what: string): void {
  expect({ status: a.status, curlExit: a.curlExit }, what).toEqual({ status, curlExit: 0 });
  expect(a.type, what).toMatch(/^application\/json/);
  expect((JSON.parse(a.body) as { error: { code: string } }).error.code, what).toBe(code);
}

describe('hostile HTTP at the running gateway', () => {
  it('a body over the limit is a 413 JSON every time: with content-length, chunked, with Expect', async () => {
    const json = ['-H', 'content-type: application/json'];
    const big = new Uint8Array(10 * 1024 * 1024).fill(0x20);
    const justOver = `${GOOD}${' '.repeat(4 * 1024 * 1024 + 1 - GOOD.length)}`;
    for (let i = 0; i < 4; i++) {
      for (const [what, args, body] of [
        ['10 MiB, content-length', ['-H', 'expect:'], big],
        ['10 MiB, chunked', ['-H', 'expect:', '-H', 'transfer-encoding: chunked'], big],
        ['10 MiB, Expect: 100-continue', [], big],
        ['limit + 1, content-length', ['-H', 'expect:'], justOver],
      ] as const) {
        const a = await send('/v1/chat/completions', [...json, ...args], body);
        expectError(a, 413, 'payload_too_large', `${what} #${i}`);
      }
    }
    // Exactly the limit is served, and the stack still serves after the floods.
    const atLimit = await send('/v1/chat/completions', [...json, '-H', 'expect:'], justOver.slice(0, -1));
    expect(atLimit.status).toBe(200);
  }, 120_000);

  it('an audio upload over 25 MiB is a 413 JSON every time', async () => {
    const file = join(dir, 'big.wav');
    await writeFile(file, new Uint8Array(26 * 1024 * 1024));
    for (let i = 0; i < 3; i++) {
      const a = await send('/v1/audio/transcriptions', upload(file));
      expectError(a, 413, 'payload_too_large', `26 MiB #${i}`);
    }
  }, 120_000);

  it('curl -F uploads, a quote in the filename percent-encoded or backslash-escaped: transcribed', async () => {
    // `--form-escape` writes filename="a\"b.wav" (RFC 7230 quoted-pair), which the strict check
    // refused before the gaps8 change; now the gateway and the worker read it as python-multipart does.
    const file = join(dir, 'a"b.wav');
    await writeFile(file, new Uint8Array(16_000));
    for (const flags of [[], ['--form-escape']]) {
      const a = await send('/v1/audio/transcriptions', [...flags, ...upload(file)]);
      expect(a.status, flags.join(' ')).toBe(200);
      expect(JSON.parse(a.body).text, flags.join(' ')).toMatch(/heard 16000 bytes/);
    }
  });

  it('a gzip body is 415 unsupported_media_type (it was read as garbage: 400 invalid_json)', async () => {
    const a = await send(
      '/v1/chat/completions',
      ['-H', 'content-type: application/json', '-H', 'content-encoding: gzip'],
      gzipSync(GOOD),
    );
    expectError(a, 415, 'unsupported_media_type', 'gzip');
  });

  it('HEAD /healthz and /readyz answer as GET, without content (they were 405)', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const a = await send(path, ['-I']);
      expect(a.status, path).toBe(200);
      expect(a.type, path).toMatch(/^application\/json/);
    }
  });
});

describe('SDK calls the other e2e files do not make', () => {
  it('openai models.retrieve: the entry, and NotFoundError model_not_found for an unknown id', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.apiKey, maxRetries: 0 });
    expect(await client.models.retrieve('sealgate-builtin')).toMatchObject({ id: 'sealgate-builtin' });
    const missing = await client.models.retrieve('gpt-4').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('Anthropic messages.countTokens: not served, refused in Anthropic’s error shape', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: stack.apiKey, maxRetries: 0 });
    const e = await client.messages
      .countTokens({ model: 'sealgate-builtin', messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.NotFoundError);
    expect((e as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error', code: 'not_found' },
    });
  });
});
