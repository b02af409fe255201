/**
 * The AI worker alone under load, against the plaintext Node hop (issue #18, worker side): the
 * worker as server.ts wires it (node:http listener, node:crypto envelope, receipts signed through
 * node:crypto, the model over node:http) with a KEK handed to it directly instead of attesting, and
 * the hop of node-hop.ts, both in this process, both calling the same model server process. A load
 * thread seals each request (as the gateway would: fresh DEK, its own CPU subtracted) and reads the
 * answers without opening them (the gateway's work is not the worker's).
 *
 * Prints, per target: main-process CPU per request (all threads: the libuv pool counts), minus the
 * load thread's; throughput at 8 in flight; latency and time to first chunk at 1 in flight.
 *
 *   npx tsx bench/macro/worker-hot.ts [json|stream] [seconds per phase]
 *
 * `PROFILE=out.cpuprofile` instead samples this process's main thread (the worker and the hop; the
 * load thread is not sampled) during the measured window of `PROFILE_TARGET` (sealed or hop) at
 * `PROFILE_CONCURRENCY` in flight (default 8), and prints the functions with the most self time per
 * request. The sampler takes wall time: on a busy host a thread waiting for a core is counted in
 * whatever it was running (syscalls above all), so read the JavaScript frames, not the totals.
 *
 * `THREADS=1` also prints each phase's CPU per request by thread name (cpu-time.ts `threadsCpuMs`,
 * 10 ms ticks): "MainThread" (the worker and the hop), "V8Worker" (V8's background GC and compiler
 * threads, which also serve the load thread's isolate), "WorkerThread" (the load thread, already
 * subtracted from cpu/req).
 *
 * `B64=js` runs the sealed worker with the runtime-neutral base64url codec (src/bytes.ts) instead
 * of its `Buffer` one (src/ai-worker/node-base64url.ts): the A/B of that choice.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createWorkerApp, createWorkerExchange } from '../../src/ai-worker/app.js';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { createWorkerListener } from '../../src/ai-worker/node-listener.js';
import { nodeReceiptKey } from '../../src/ai-worker/node-receipt-key.js';
import { createSaltPool } from '../../src/ai-worker/node-salt-pool.js';
import { nodeSha256, nodeSha256Hex } from '../../src/ai-worker/node-sha256.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { listenNode } from '../../src/dev/serve.js';
import { jsBase64Url } from '../../src/keys/encoding.js';
import { createKek } from '../../src/keys/kek.js';
import { createNodeHttpFetch } from '../../src/model/node-http-fetch.js';
import { createUpstreamModel } from '../../src/model/upstream.js';
import { processesCpuMs, threadsCpuMs } from './cpu-time.js';
import { startModelServerProcess } from './model-process.js';
import { startNodeHop } from './node-hop.js';
import type { HotJob, HotResult } from './worker-hot-load.js';

const root = join(import.meta.dirname, '../..');
const stream = process.argv[2] === 'stream';
const seconds = Number(process.argv[3] ?? 4);
const DIGEST = 'ab'.repeat(32);

function load(job: HotJob, onWindow: (edge: 'start' | 'end') => void): Promise<HotResult> {
  return new Promise((resolve, reject) => {
    const entry = JSON.stringify(new URL('./worker-hot-load.ts', import.meta.url).href);
    const w = new Worker(
      `import('tsx/esm/api').then((m) => m.tsImport(${entry}, ${JSON.stringify(import.meta.url)}))`,
      { eval: true, workerData: job },
    );
    w.on('message', (m: { window?: 'start' | 'end'; result?: HotResult; error?: string }) => {
      if (m.window) return onWindow(m.window);
      void w.terminate();
      if (m.result) resolve(m.result);
      else reject(new Error(m.error));
    });
    w.once('error', reject);
  });
}

async function startSealedWorker(modelUrl: string) {
  const now = Math.floor(Date.now() / 1000);
  const kek = await createKek({ notBefore: now - 60, notAfter: now + 3600 });
  const keys = new WorkerKeys({ minIntervalMs: 0, refresher: async () => undefined });
  await keys.add(kek);
  const receiptKey = nodeReceiptKey();
  const service = await generateServiceKeys();
  const { der } = await issueWorkerCertificate({
    issuer: service.signing,
    workerSigningKey: receiptKey.spki,
    workerHpkeKey: new Uint8Array(1216).fill(1),
    measurement: new Uint8Array(48).fill(2),
    manifestDigest: DIGEST,
    configDigest: 'cf'.repeat(32),
    simulated: true,
    now: new Date(),
    lifetimeSeconds: 3600,
  });
  const modelFetch = createNodeHttpFetch();
  const deps = {
    keys,
    model: createUpstreamModel({ baseUrl: modelUrl, fetch: modelFetch }),
    manifestDigest: DIGEST,
    simulated: true,
    certificate: () => der,
    receiptSigner: () => ({ key: receiptKey.sign, certificate: der }),
    envelopeCrypto:
      process.env.B64 === 'js' ? { ...nodeEnvelopeCrypto, base64url: jsBase64Url } : nodeEnvelopeCrypto,
    sha256: nodeSha256,
    sha256Hex: nodeSha256Hex,
    saltRandom: createSaltPool(),
    log: () => undefined,
  };
  const exchange = createWorkerExchange(deps);
  const listening = await listenNode(createWorkerListener(createWorkerApp(deps, exchange), exchange), {
    port: 0,
    host: '127.0.0.1',
  });
  return {
    url: listening.url,
    kek,
    close: async () => {
      await listening.close();
      modelFetch.close();
    },
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

async function profiled(run: (onWindow: (edge: 'start' | 'end') => void) => Promise<HotResult>) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  let started: Promise<unknown> = Promise.resolve();
  let stopped: Promise<{ profile: Profile }> | undefined;
  const r = await run((edge) => {
    if (edge === 'start') started = session.post('Profiler.start');
    else stopped = started.then(() => session.post('Profiler.stop') as Promise<{ profile: Profile }>);
  });
  const { profile } = await stopped!;
  session.disconnect();
  await writeFile(process.env.PROFILE!, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const rows = [...self].sort((a, b) => b[1] - a[1]);
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  const idle = self.get('(idle) :0') ?? 0;
  process.stdout.write(
    `${r.requests} requests; sampled ${total.toFixed(0)} ms, busy ${(total - idle).toFixed(0)} ms = ${((total - idle) / r.requests).toFixed(3)} ms/request (main thread)\n`,
  );
  for (const [k, v] of rows.slice(0, 40))
    process.stdout.write(`${(v / r.requests).toFixed(4)} ms/req  ${k}\n`);
}

const model = await startModelServerProcess(root);
const sealed = await startSealedWorker(model.url);
const hop = await startNodeHop(model.url);
const pids = [process.pid];
try {
  if (process.env.PROFILE) {
    const target = process.env.PROFILE_TARGET === 'hop' ? hop : sealed;
    await profiled((onWindow) =>
      load(
        {
          url: target.url,
          sealWith: target === sealed ? sealed.kek : null,
          stream,
          concurrency: Number(process.env.PROFILE_CONCURRENCY ?? 8),
          warmupMs: 1000,
          durationMs: seconds * 1000,
        },
        onWindow,
      ),
    );
  }
  for (const concurrency of process.env.PROFILE ? [] : [8, 1]) {
    for (const target of ['sealed', 'hop'] as const) {
      let cpuStart = 0;
      let cpuEnd = 0;
      let threadsStart = new Map<string, number>();
      let threadsEnd = threadsStart;
      let usageStart = process.cpuUsage();
      let usage = usageStart;
      let mainStart = process.threadCpuUsage();
      let main = mainStart;
      const r = await load(
        {
          url: target === 'sealed' ? sealed.url : hop.url,
          sealWith: target === 'sealed' ? sealed.kek : null,
          stream,
          concurrency,
          warmupMs: 1000,
          durationMs: seconds * 1000,
        },
        (edge) => {
          if (edge === 'start') {
            if (process.env.THREADS) threadsStart = threadsCpuMs(pids);
            cpuStart = processesCpuMs(pids) ?? 0;
            usageStart = process.cpuUsage();
            mainStart = process.threadCpuUsage();
          } else {
            main = process.threadCpuUsage(mainStart);
            cpuEnd = processesCpuMs(pids) ?? 0;
            usage = process.cpuUsage(usageStart);
            if (process.env.THREADS) threadsEnd = threadsCpuMs(pids);
          }
        },
      );
      const cpu = (cpuEnd - cpuStart - r.loadCpuMs) / r.requests;
      if (process.env.THREADS) {
        const rows = [...threadsEnd].map(
          ([name, ms]) => [name, (ms - (threadsStart.get(name) ?? 0)) / r.requests] as const,
        );
        process.stdout.write(
          `  threads, ms/request: ${rows
            .filter(([, v]) => v > 0)
            .map(([n, v]) => `${n} ${v.toFixed(3)}`)
            .join(', ')}\n`,
        );
      }
      const user = (usage.user / 1000 - r.loadUserMs) / r.requests;
      const system = (usage.system / 1000 - r.loadSystemMs) / r.requests;
      const mainMs = (main.user + main.system) / 1000 / r.requests;
      process.stdout.write(
        `${stream ? 'stream' : 'json'} c${concurrency} ${target.padEnd(6)} ${r.requests} req ${r.rps.toFixed(0)} rps  cpu/req ${cpu.toFixed(3)} ms (user ${user.toFixed(3)} sys ${system.toFixed(3)}; main thread ${mainMs.toFixed(3)})  latency p50 ${r.latencyP50.toFixed(2)} ms  ttfc p50 ${r.ttfcP50.toFixed(2)} ms  errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}\n`,
      );
    }
  }
} finally {
  await sealed.close();
  await hop.close();
  model.child.kill('SIGTERM');
}
process.exit(0);
