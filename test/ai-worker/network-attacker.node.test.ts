/**
 * The AI worker as an attacker on the confidential cloud's network reaches it —
 * its port talked to directly, not through the gateway. The real attestation service and real
 * workers on loopback (SIMULATED hardware), raw sockets where a client library would refuse.
 *
 *   - a sealed request recorded on the wire and replayed to the worker after its process restarted
 *     (found: the new process's empty guard opened it and ran it again);
 *   - the same seal pipelined twice on one connection, request smuggling shapes, Expect:
 *     100-continue (held);
 *   - the plain routes and every log line, across all of it: no key material, no prompt (held).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningWorker } from '../../src/ai-worker/main.js';
import { toBase64, toBase64Url, toHex } from '../../src/bytes.js';
import { BUILTIN_MODEL_ID } from '../../src/model/builtin.js';
import { CHAT, nowSeconds, recordingLog, type Stack, startStack } from '../integration/stack.js';
import { rawConnection, requestHead, statusCodes } from '../support/raw-http.js';
import { expectError, post } from './support.js';

const PROMPT = 'the prompt only the worker may read 7f3a';
const workerLog = recordingLog();
const consoleLines: string[] = [];
let stack: Stack;
let worker: RunningWorker;

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      consoleLines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
  }
  stack = await startStack();
  worker = await stack.startWorker({ log: workerLog.log });
  await worker.ready;
}, 240_000);
afterAll(async () => {
  vi.restoreAllMocks();
  await stack?.close();
});

const sealChat = () => stack.seal({ model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: PROMPT }] });
const port = (w: RunningWorker) => new URL(w.url).port;

describe('a sealed request replayed to the worker directly', () => {
  it('after the worker restarted: refused (the new process cannot know what the old one served)', async () => {
    const first = await stack.startWorker();
    await first.ready;
    const { sealed } = await sealChat();
    expect((await post(first.url, CHAT, sealed)).status).toBe(200);
    await expectError(await post(first.url, CHAT, sealed), 409, 'replay_detected');

    // The host restarts the worker (same manifest, same KEKs released again); the attacker replays
    // the recorded bytes well inside the 300 s window.
    await first.close();
    while (nowSeconds() <= sealed.sealgate.ts) await new Promise((r) => setTimeout(r, 100));
    const restarted = await stack.startWorker();
    await restarted.ready;
    await expectError(await post(restarted.url, CHAT, sealed), 409, 'replay_detected');
    // Fresh requests are served by the restarted worker.
    expect((await post(restarted.url, CHAT, (await sealChat()).sealed)).status).toBe(200);
  }, 60_000);

  it('the same seal pipelined twice on one connection: answered once, then replay_detected', async () => {
    const body = JSON.stringify((await sealChat()).sealed);
    const head = (close: boolean) =>
      requestHead('POST', CHAT, [
        `content-length: ${Buffer.byteLength(body)}`,
        ...(close ? ['connection: close'] : []),
      ]);
    const answer = await rawConnection(Number(port(worker)), head(false) + body + head(true) + body).received;
    expect(statusCodes(answer)).toEqual([200, 409]);
    expect(answer).toContain('"code":"replay_detected"');
  });
});

describe('smuggling shapes and Expect: 100-continue on the sealed route (held: Node refuses before any route)', () => {
  it('content-length with transfer-encoding, two content-lengths: one 400, nothing opened', async () => {
    const body = JSON.stringify((await sealChat()).sealed);
    const len = Buffer.byteLength(body);
    const chunked = `${len.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const shapes = [
      requestHead('POST', CHAT, [`content-length: ${chunked.length}`, 'transfer-encoding: chunked']) +
        chunked,
      requestHead('POST', CHAT, [`content-length: ${len}`, `content-length: ${len + 1}`]) + body,
    ];
    for (const shape of shapes) {
      const answer = await rawConnection(Number(port(worker)), shape, { idleMs: 5_000 }).received;
      expect(statusCodes(answer)).toEqual([400]);
    }
    // None of them was opened: the seal is still unspent, and answers now.
    expect((await post(worker.url, CHAT, JSON.parse(body))).status).toBe(200);
  });

  it('Expect: 100-continue: 100, then the sealed answer', async () => {
    const body = JSON.stringify((await sealChat()).sealed);
    const head = requestHead('POST', CHAT, [
      `content-length: ${Buffer.byteLength(body)}`,
      'expect: 100-continue',
      'connection: close',
    ]);
    const conn = rawConnection(Number(port(worker)), head);
    await new Promise<void>((resolve) => conn.socket.once('data', () => resolve()));
    conn.socket.write(body);
    const answer = await conn.received;
    expect(statusCodes(answer)).toEqual([100, 200]);
    expect(answer).not.toContain(PROMPT);
  });
});

describe('what the plain routes and the logs say (held)', () => {
  it('no route changes state or shows key material; no answer or log line holds a KEK or the prompt', async () => {
    // Refusals first, so that their log lines are in the record too.
    const { sealed } = await sealChat();
    const ct = sealed.sealgate.ct;
    const flipped = `${ct.slice(0, -2)}${ct.at(-2) === 'A' ? 'B' : 'A'}${ct.at(-1)}`;
    await expectError(
      await post(worker.url, CHAT, { ...sealed, sealgate: { ...sealed.sealgate, ct: flipped } }),
      400,
      'decryption_failed',
    );
    await expectError(
      await post(worker.url, CHAT, { model: BUILTIN_MODEL_ID, messages: [PROMPT] }),
      400,
      'invalid_request',
    );
    await expectError(await post(worker.url, CHAT, `{"model": "${PROMPT}"`), 400, 'invalid_json');

    const answers: string[] = [];
    for (const path of ['/healthz', '/v1/worker', '/v1/models']) {
      const res = await fetch(`${worker.url}${path}`);
      expect(res.status).toBe(200);
      answers.push(await res.text());
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const other = await fetch(`${worker.url}${path}`, { method, body: '{}' });
        expect({ path, method, status: other.status }).toEqual({ path, method, status: 405 });
        answers.push(await other.text());
      }
    }
    const health = JSON.parse(answers[0]!) as Record<string, unknown>;
    expect(Object.keys(health).sort()).toEqual(
      ['keyIds', 'keys', 'manifestDigest', 'registered', 'role', 'simulated', 'status'].sort(),
    );

    const kek = stack.kek.key;
    const secrets = [PROMPT, toHex(kek), toBase64Url(kek), toBase64(kek)];
    const logs = [
      ...workerLog.entries.map((e) => JSON.stringify(e)),
      ...stack.serviceLog.entries.map((e) => JSON.stringify(e)),
      ...consoleLines,
    ];
    expect(logs.length).toBeGreaterThan(5);
    for (const text of [...answers, ...logs]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});
