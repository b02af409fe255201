/**
 * worker-hot.ts's load thread: closed loop, `concurrency` in flight over keep-alive connections.
 * For the sealed target each request is sealed here (node:crypto backend, on this thread, so that
 * its CPU is this thread's and subtracted); answers are read to the end, not opened.
 */
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { sealRequest } from '../../src/envelope/request.js';
import type { Kek } from '../../src/keys/kek.js';
import { chatBody } from '../micro/cases.js';
import { threadCpuMs } from './cpu-time.js';

export interface HotJob {
  url: string;
  /** Seal under this KEK (the worker's target), or send plain JSON (the hop). */
  sealWith: Kek | null;
  stream: boolean;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface HotResult {
  requests: number;
  errors: number;
  firstError: string | null;
  rps: number;
  latencyP50: number;
  ttfcP50: number;
  loadCpuMs: number;
  /** This thread's user and system CPU ms in the window (process.threadCpuUsage). */
  loadUserMs: number;
  loadSystemMs: number;
}

const ROUTE = '/v1/chat/completions';
let rid = 0;

async function bodyOf(job: HotJob, plain: Record<string, unknown>): Promise<string> {
  if (!job.sealWith) return JSON.stringify(plain);
  const { sealed } = await sealRequest({
    kek: job.sealWith,
    route: ROUTE,
    requestId: `hot-${++rid}`,
    body: plain,
    now: Math.floor(Date.now() / 1000),
    envelopeCrypto: nodeEnvelopeCrypto,
  });
  return JSON.stringify(sealed);
}

function send(
  agent: Agent,
  url: string,
  body: string,
): Promise<{ status: number; ttfc: number; t0: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttfc = Number.NaN;
    const req = request(
      `${url}${ROUTE}`,
      {
        agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        res.on('data', () => {
          if (Number.isNaN(ttfc)) ttfc = performance.now() - t0;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ttfc, t0 }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(job: HotJob): Promise<HotResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const plain = chatBody(4096, job.stream);
  const start = performance.now();
  const from = start + job.warmupMs;
  const to = from + job.durationMs;
  let cpuStart = 0;
  let cpuEnd = 0;
  let usageStart = process.threadCpuUsage();
  let usage = usageStart;
  setTimeout(() => {
    cpuStart = threadCpuMs() ?? 0;
    usageStart = process.threadCpuUsage();
    parentPort!.postMessage({ window: 'start' });
  }, job.warmupMs);
  let ended = false;
  const latencies: number[] = [];
  const ttfcs: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const loop = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= to) {
        if (!ended) {
          ended = true;
          cpuEnd = threadCpuMs() ?? 0;
          usage = process.threadCpuUsage(usageStart);
          parentPort!.postMessage({ window: 'end' });
        }
        return;
      }
      const body = await bodyOf(job, plain);
      try {
        const r = await send(agent, job.url, body);
        const latency = performance.now() - r.t0;
        if (r.status !== 200) {
          errors++;
          firstError ??= `HTTP ${r.status}`;
        } else if (r.t0 >= from && r.t0 + latency <= to) {
          latencies.push(latency);
          ttfcs.push(r.ttfc);
        }
      } catch (e) {
        errors++;
        firstError ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  agent.destroy();
  const p50 = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  return {
    requests: latencies.length,
    errors,
    firstError,
    rps: latencies.length / (job.durationMs / 1000),
    latencyP50: p50(latencies),
    ttfcP50: p50(ttfcs),
    loadCpuMs: cpuEnd - cpuStart,
    loadUserMs: usage.user / 1000,
    loadSystemMs: usage.system / 1000,
  };
}

run(workerData as HotJob).then(
  (result) => parentPort!.postMessage({ result }),
  (e) => parentPort!.postMessage({ error: String(e) }),
);
