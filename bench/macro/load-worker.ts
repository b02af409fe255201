/**
 * The load generator (a worker thread, so that its event loop is not the one of the in-process AI
 * worker and attestation service). Closed loop: `concurrency` requests in flight over keep-alive
 * connections (node:http Agent, no dependency), for `warmupMs` (discarded) then `durationMs` (measured).
 *
 * Modes: "load" (many requests, latency / TTFC / throughput), "drain" (one request, read the whole
 * answer, count bytes — the long stream of the memory measurement).
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { threadCpuMs } from './cpu-time.js';

export interface LoadJob {
  mode: 'load' | 'drain';
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  stream: boolean;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /**
   * Drain only: stop reading after about every this many bytes until the parent answers the
   * `{pause: bytes}` message with `"resume"` — the memory trace collects the gateway's heap there,
   * with the stream at rest (memory-trace.ts).
   */
  pauseEveryBytes?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  /** Completed requests per second in the measured window. */
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Time to the first chunk of the answer body (streams). */
  ttfcMs: { p50: number; p90: number; p99: number } | null;
  bytes: number;
  /** Every request answered 200 in the whole phase, warm-up and edges included (for per-request counts of the phase). */
  answered?: number;
  /** This load generator's own CPU ms in the measured window (its thread only), when known. */
  loadCpuMs?: number | null;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function send(
  agent: Agent,
  job: LoadJob,
  onChunk: (b: Buffer, res: IncomingMessage) => void,
): Promise<number> {
  const url = new URL(job.path, job.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method: 'POST',
        headers: { ...job.headers, 'content-length': String(Buffer.byteLength(job.body)) },
      },
      (res) => {
        res.on('data', (b: Buffer) => onChunk(b, res));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(job.body);
  });
}

async function one(
  agent: Agent,
  job: LoadJob,
): Promise<{ latency: number; ttfc: number; bytes: number; error: string | null }> {
  const t0 = performance.now();
  let ttfc = Number.NaN;
  let bytes = 0;
  let tail = '';
  let nextPause = job.pauseEveryBytes ?? Number.POSITIVE_INFINITY;
  try {
    const status = await send(agent, job, (b, res) => {
      if (bytes === 0) ttfc = performance.now() - t0;
      bytes += b.length;
      if (job.stream) tail = (tail + b.toString('latin1')).slice(-64);
      if (bytes >= nextPause && parentPort) {
        nextPause = bytes + job.pauseEveryBytes!;
        res.pause();
        const port = parentPort;
        port.once('message', () => res.resume());
        port.postMessage({ pause: bytes });
      }
    });
    const latency = performance.now() - t0;
    if (status !== 200) return { latency, ttfc, bytes, error: `HTTP ${status}` };
    if (job.stream && !tail.includes('[DONE]'))
      return { latency, ttfc, bytes, error: 'stream without [DONE]' };
    return { latency, ttfc, bytes, error: null };
  } catch (e) {
    return {
      latency: performance.now() - t0,
      ttfc,
      bytes,
      error: e instanceof Error ? e.message : String(e),
    };
  }
}

/** Mode "drain": one request, its whole answer read (pausing where the job asks). */
async function drainOne(pool: Agent, job: LoadJob): Promise<LoadResult> {
  const t0 = performance.now();
  const r = await one(pool, job);
  const seconds = (performance.now() - t0) / 1000;
  return {
    requests: r.error ? 0 : 1,
    errors: r.error ? 1 : 0,
    firstError: r.error,
    seconds,
    rps: 0,
    latencyMs: { p50: r.latency, p90: r.latency, p99: r.latency, max: r.latency, mean: r.latency },
    ttfcMs: { p50: r.ttfc, p90: r.ttfc, p99: r.ttfc },
    bytes: r.bytes,
  };
}

/**
 * The edges of the measured window: at each, this thread's CPU is read and the parent told (it
 * samples the other processes' CPU then). `close` stops the timers and gives this thread's CPU ms in
 * the window, when both edges were taken.
 */
function windowEdges(job: LoadJob): { close: () => number | null } {
  let cpuAtStart: number | null = null;
  let cpuAtEnd: number | null = null;
  const timers = [
    setTimeout(() => {
      cpuAtStart = threadCpuMs();
      parentPort?.postMessage({ window: 'start' });
    }, job.warmupMs),
    setTimeout(() => {
      cpuAtEnd = threadCpuMs();
      parentPort?.postMessage({ window: 'end' });
    }, job.warmupMs + job.durationMs),
  ];
  return {
    close: () => {
      for (const t of timers) clearTimeout(t);
      // The last request can end just before the end edge's timer fires: then the edge is taken now,
      // before the result is posted (the parent reads messages in order), rather than lost.
      if (cpuAtStart !== null && cpuAtEnd === null) {
        cpuAtEnd = threadCpuMs();
        parentPort?.postMessage({ window: 'end' });
      }
      return cpuAtStart !== null && cpuAtEnd !== null ? cpuAtEnd - cpuAtStart : null;
    },
  };
}

/** What the requests wholly inside the measured window gave, and every 200 of the phase. */
interface Tally {
  latencies: number[];
  ttfcs: number[];
  errors: number;
  firstError: string | null;
  bytes: number;
  answered: number;
}

/** Mode "load": `concurrency` loops, each sending its next request when the last one ended. */
async function closedLoop(pool: Agent, job: LoadJob): Promise<Tally> {
  const measureFrom = performance.now() + job.warmupMs;
  const stopAt = measureFrom + job.durationMs;
  const tally: Tally = { latencies: [], ttfcs: [], errors: 0, firstError: null, bytes: 0, answered: 0 };
  const loop = async () => {
    while (performance.now() < stopAt) {
      const began = performance.now();
      const r = await one(pool, job);
      const ended = performance.now();
      if (!r.error) tally.answered++;
      if (began < measureFrom || ended > stopAt) continue; // only requests wholly inside the window
      if (r.error) {
        tally.errors++;
        tally.firstError ??= r.error;
        continue;
      }
      tally.latencies.push(r.latency);
      if (job.stream) tally.ttfcs.push(r.ttfc);
      tally.bytes += r.bytes;
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  return tally;
}

/** The window's figures: rates over `durationMs`, latency and TTFC percentiles. */
function summarize(job: LoadJob, tally: Tally, loadCpuMs: number | null): LoadResult {
  const latencies = tally.latencies.sort((a, b) => a - b);
  const ttfcs = tally.ttfcs.sort((a, b) => a - b);
  const seconds = job.durationMs / 1000;
  return {
    requests: latencies.length,
    errors: tally.errors,
    firstError: tally.firstError,
    seconds,
    rps: latencies.length / seconds,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    },
    ttfcMs: job.stream
      ? { p50: percentile(ttfcs, 50), p90: percentile(ttfcs, 90), p99: percentile(ttfcs, 99) }
      : null,
    bytes: tally.bytes,
    answered: tally.answered,
    loadCpuMs,
  };
}

async function run(job: LoadJob): Promise<LoadResult> {
  const pool = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  try {
    if (job.mode === 'drain') return await drainOne(pool, job);
    const edges = windowEdges(job);
    const tally = await closedLoop(pool, job);
    return summarize(job, tally, edges.close());
  } finally {
    pool.destroy();
  }
}

if (parentPort && workerData) {
  const port = parentPort;
  run(workerData as LoadJob).then(
    (r) => port.postMessage({ ok: true, result: r }),
    (e: unknown) => port.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
}
