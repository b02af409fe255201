/**
 * The review's AI worker: the real node:http listener (src/ai-worker/node-listener.ts) over the
 * real exchange, holding one KEK, on an ephemeral loopback port, closed after each test.
 */
import { afterEach } from 'vitest';
import { createWorkerApp, createWorkerExchange, type WorkerAppDeps } from '../../src/ai-worker/app.js';
import { BodyBudget } from '../../src/ai-worker/body-budget.js';
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

/** A worker listener with `model` (built-in by default), `budget` and `writeStallMs`. */
export async function startReviewWorker(
  opts: { model?: ModelBackend; budget?: BodyBudget; writeStallMs?: number } = {},
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
    log: () => undefined,
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
