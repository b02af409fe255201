/**
 * The review's AI worker: the real node:http listener (src/ai-worker/node-listener.ts) over the
 * real exchange, holding one KEK, on an ephemeral loopback port, closed after each test.
 */
import { afterEach } from 'vitest';
import { createWorkerApp, createWorkerExchange, type WorkerAppDeps } from '../../src/ai-worker/app.js';
import { BodyBudget } from '../../src/ai-worker/body-budget.js';
import type { WorkerLog } from '../../src/ai-worker/log.js';
import { createWorkerListener, WRITE_STALL_MS } from '../../src/ai-worker/node-listener.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { type Listening, listenNode } from '../../src/dev/serve.js';
import type { Kek } from '../../src/keys/kek.js';
import { createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelBackend } from '../../src/model/types.js';
import { kekAt, T } from '../ai-worker/support.js';

const running: Listening[] = [];
afterEach(async () => {
  for (const l of running.splice(0)) await l.close();
});

export interface ReviewWorker {
  url: string;
  port: number;
  kek: Kek;
}

/** A worker listener with `model` (built-in by default), `budget`, `writeStallMs` and `log`. */
export async function startReviewWorker(
  opts: { model?: ModelBackend; budget?: BodyBudget; writeStallMs?: number; log?: WorkerLog } = {},
): Promise<ReviewWorker> {
  const kek = await kekAt();
  const keys = new WorkerKeys({ minIntervalMs: 0, clock: () => T * 1000, refresher: async () => undefined });
  await keys.add(kek);
  const deps: WorkerAppDeps = {
    keys,
    model: opts.model ?? createBuiltinModel({ now: () => T }),
    manifestDigest: 'ab'.repeat(32),
    simulated: true,
    certificate: () => null,
    clock: () => T * 1000 + 500,
    log: opts.log ?? (() => undefined),
  };
  const exchange = createWorkerExchange(deps);
  const listener = createWorkerListener(
    createWorkerApp(deps, exchange),
    exchange,
    opts.budget ?? new BodyBudget(),
    opts.writeStallMs ?? WRITE_STALL_MS,
  );
  const listening = await listenNode(listener, { port: 0, host: '127.0.0.1' });
  running.push(listening);
  return { url: listening.url, port: listening.port, kek };
}

/** A chunked body: one chunk (with `ext` after its size), then the last chunk and `trailer`. */
export const chunked = (body: string, ext = '', trailer = '') =>
  `${Buffer.byteLength(body).toString(16)}${ext}\r\n${body}\r\n0\r\n${trailer}\r\n`;

/** A POST head to `path`; `connection: close` so that an answered connection ends at once. */
export const postHead = (path: string, lines: string[], eol = '\r\n', version = '1.1') =>
  [`POST ${path} HTTP/${version}`, 'host: 127.0.0.1', 'connection: close', ...lines, '', ''].join(eol);

/** HTTP/1.1 framings of a JSON body to `path` that a strict parser refuses: [what, request bytes]. */
export function malformedFramings(path: string): [string, (body: string) => string][] {
  const json = 'content-type: application/json';
  const te = (framing: string) => postHead(path, [json, 'transfer-encoding: chunked']) + framing;
  return [
    [
      'an obs-folded header',
      (b) => postHead(path, [json, ' ; charset=utf-8', `content-length: ${b.length}`]) + b,
    ],
    ['bare LF line ends', (b) => postHead(path, [json, `content-length: ${b.length}`], '\n') + b],
    ['a bare LF inside the chunked framing', (b) => te(`${b.length.toString(16)}\n${b}\n0\n\n`)],
    ['a chunk size past 2^64', (b) => te(`1${'0'.repeat(16)}\r\n${b}\r\n0\r\n\r\n`)],
    ['a 64 KiB chunk extension', (b) => te(chunked(b, `;x=${'a'.repeat(64 * 1024)}`))],
    ['a chunk extension with a CR LF in quotes', (b) => te(chunked(b, ';x="a\r\nb"'))],
    [
      'transfer-encoding: chunked, identity',
      (b) => postHead(path, [json, 'transfer-encoding: chunked, identity']) + chunked(b),
    ],
    [
      'Expect: other',
      (b) => postHead(path, [json, `content-length: ${b.length}`, 'expect: 101-upgrade-me']) + b,
    ],
    ['a space before the colon', (b) => postHead(path, [json, `content-length : ${b.length}`]) + b],
  ];
}
