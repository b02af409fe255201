/**
 * A peer of the AI worker that sends a sealed request and then never reads the
 * answer, on a real socket (src/ai-worker/node-listener.ts). Found: a stream waited for the
 * socket's 'drain' with no bound — the model's call went on being held (paused by backpressure)
 * and the request's share of the body budget with it, for as long as the peer kept the connection
 * open. Now the answer is cut after the listener's write-stall bound (WRITE_STALL_MS; a short one
 * here), the model call is aborted and the budget given back. A peer that reads late but within
 * the bound still gets the whole stream.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BodyBudget } from '../../src/ai-worker/body-budget.js';
import type { WorkerLog } from '../../src/ai-worker/log.js';
import { WRITE_STALL_MS } from '../../src/ai-worker/node-listener.js';
import { BUILTIN_MODEL_ID } from '../../src/model/builtin.js';
import type { ModelBackend } from '../../src/model/types.js';
import { openSse, post, seal } from '../ai-worker/support.js';
import { requestHead } from '../support/raw-http.js';
import { startReviewWorker } from './support.js';

const CHAT = '/v1/chat/completions';
const STALL_MS = 300;

/** A worker log that keeps its lines. */
function recordingLog() {
  const lines: { level: string; message: string; detail?: Record<string, unknown> }[] = [];
  const log: WorkerLog = (level, message, detail) =>
    lines.push({ level, message, ...(detail ? { detail } : {}) });
  return { log, lines, cuts: () => lines.filter((l) => l.message === 'write stalled: answer cut') };
}

/** A model serving any id, answering with `call`. */
function answering(call: ModelBackend['call']): ModelBackend {
  return {
    description: 'review',
    listModels: async () => ({ object: 'list', data: [] }),
    servesModel: () => true,
    call,
  };
}

/** A model that streams 8 KiB events until the worker aborts its call. */
function endlessModel() {
  let abort: () => void = () => undefined;
  const state = { produced: 0, aborted: new Promise<void>((r) => (abort = r)) };
  const big = 'z'.repeat(8 * 1024);
  const model = answering(async (_route, req) => {
    req.signal?.addEventListener('abort', abort, { once: true });
    return {
      kind: 'stream',
      events: (async function* () {
        while (!req.signal?.aborted) {
          state.produced++;
          yield JSON.stringify({ i: state.produced, big });
        }
      })(),
    };
  });
  return { model, state };
}

/** Sends `body` to the sealed chat route on a socket that reads nothing; resolves when it closes. */
function sendUnread(port: number, body: string): { closed: Promise<void>; readAll(): void } {
  const socket = connect({ port, host: '127.0.0.1' });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  socket.on('error', () => undefined);
  socket.pause(); // never read: the socket's buffers fill, then the worker's writes stall
  socket.write(requestHead('POST', CHAT, [`content-length: ${Buffer.byteLength(body)}`]) + body);
  return { closed, readAll: () => socket.resume() };
}

const streamBody = { model: BUILTIN_MODEL_ID, stream: true, messages: [{ role: 'user', content: 'hi' }] };

describe('a peer that never reads its answer (found)', () => {
  it('the stream is cut after the stall bound: the model call aborted, the body budget given back', async () => {
    expect(WRITE_STALL_MS).toBe(60_000); // the production bound this test shortens
    const { model, state } = endlessModel();
    const budget = new BodyBudget();
    const { log, lines, cuts } = recordingLog();
    const { port, kek } = await startReviewWorker({ model, budget, writeStallMs: STALL_MS, log });
    const body = JSON.stringify((await seal(kek, CHAT, streamBody)).sealed);
    const peer = sendUnread(port, body);

    await expect.poll(() => budget.inFlight, { timeout: 5_000 }).toBeGreaterThan(0);
    // Before the fix the worker waited for 'drain' for as long as the socket stayed open: this
    // never resolved, the model's call stayed open and the bytes stayed counted.
    await state.aborted;
    expect(budget.inFlight).toBe(0);
    peer.readAll(); // read what was sent: the connection was cut, not ended with an end frame
    await peer.closed;
    const at = state.produced;
    await new Promise((r) => setTimeout(r, 100));
    expect(state.produced - at).toBeLessThanOrEqual(1);
    // The cut is one warn line: the route, a stream, what was written and not taken; no content.
    expect(cuts()).toEqual([
      {
        level: 'warn',
        message: 'write stalled: answer cut',
        detail: {
          route: CHAT,
          stream: true,
          bytesWritten: expect.any(Number),
          bytesUnsent: expect.any(Number),
          stallSeconds: STALL_MS / 1000,
        },
      },
    ]);
    const { bytesWritten, bytesUnsent } = cuts()[0]!.detail as { bytesWritten: number; bytesUnsent: number };
    expect(bytesWritten).toBeGreaterThan(64 * 1024); // the socket's buffers filled before the stall
    expect(bytesUnsent).toBeGreaterThan(0);
    expect(bytesUnsent).toBeLessThanOrEqual(bytesWritten);
    expect(JSON.stringify(lines)).not.toContain('zzzz'); // the model's events are not logged
  }, 30_000);

  it('a JSON answer larger than the socket buffers, never read: cut, the body budget given back', async () => {
    const model = answering(async () => ({
      kind: 'json',
      body: { object: 'chat.completion', big: 'x'.repeat(32 * 1024 * 1024) },
    }));
    const budget = new BodyBudget();
    const { log, cuts } = recordingLog();
    const { port, kek } = await startReviewWorker({ model, budget, writeStallMs: STALL_MS, log });
    const body = JSON.stringify((await seal(kek, CHAT, { ...streamBody, stream: false })).sealed);
    const peer = sendUnread(port, body);
    await expect.poll(() => budget.inFlight, { timeout: 5_000 }).toBeGreaterThan(0);
    // Before the fix the answer waited in the socket's queue for as long as the peer kept it open.
    await expect.poll(() => budget.inFlight, { timeout: 20_000 }).toBe(0);
    peer.readAll();
    await peer.closed;
    expect(cuts()).toHaveLength(1);
    const { detail } = cuts()[0]!;
    expect(detail).toMatchObject({ route: CHAT, stream: false, stallSeconds: STALL_MS / 1000 });
    // The whole sealed answer (base64url of 32 MiB) was handed over; most of it was never taken.
    expect(detail!.bytesWritten).toBeGreaterThan(32 * 1024 * 1024);
    expect(detail!.bytesUnsent).toBeGreaterThan(0);
    expect(detail!.bytesUnsent).toBeLessThanOrEqual(detail!.bytesWritten as number);
  }, 30_000);

  it('a peer that pauses shorter than the bound, then reads, gets the whole stream', async () => {
    const TOTAL = 600;
    const big = 'y'.repeat(8 * 1024);
    const model = answering(async () => ({
      kind: 'stream',
      events: (async function* () {
        for (let i = 0; i < TOTAL; i++) yield JSON.stringify({ i, big });
        yield '[DONE]';
      })(),
    }));
    const { log, cuts } = recordingLog();
    const { url, kek } = await startReviewWorker({ model, writeStallMs: STALL_MS, log });
    const { sealed, context } = await seal(kek, CHAT, streamBody);
    const res = await post(url, CHAT, sealed);
    await new Promise((r) => setTimeout(r, STALL_MS / 3));
    const opened = await openSse(res, context);
    expect(opened.error).toBeUndefined();
    expect(opened.chunks).toHaveLength(TOTAL + 1);
    expect(cuts()).toEqual([]); // nothing cut, nothing logged
  });
});
