/**
 * The macro benchmark: the local stack (`startStack`: attestation service + AI worker in this
 * process, the real gateway bundled as `wrangler deploy` bundles it and run by one workerd through
 * Miniflare with real KV and Durable Objects — production-shaped: no `wrangler dev` proxy, no
 * inspector session; miniflare-worker.ts) against a plaintext baseline (bench/workerd/passthrough.ts,
 * run the same way), both in front of the same model server (bench/macro/model-server.ts, its own
 * process), in the same run. One reference phase runs the passthrough under `wrangler dev`, to show
 * what the development tool costs (it is no part of any figure's baseline).
 *
 * Measures throughput, p50/p99 latency and time to first chunk for 4 KiB chat prompts, streamed
 * and not; counts the attestation service's `/v1/attestation` calls (the only way an evidence
 * verification starts) during the load; samples the gateway's workerd RSS while a 100 MB stream
 * passes through it. Under load, the sealed phases run twice: with the stack's unlimited key and
 * with a key that has every limit (`limited`: rpm, tpm and a budget, all far above what the load
 * reaches), whose requests go through the Rate Limiting binding and whose answers are metered and
 * settled in its KeyUsage Durable Object off the request path (docs/gateway.md "Limits and budgets").
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { startStack, stopGroup } from '../../src/dev/stack.js';
import { chatBody } from '../micro/cases.js';
import { createBenchKey } from './bench-keys.js';
import { processesCpuMs, processGroup } from './cpu-time.js';
import type { LoadJob, LoadResult } from './load-worker.js';
import { type MemoryTrace, memoryTrace } from './memory-trace.js';
import { type MiniflareWorker, startGatewayWorker, startMiniflareWorker } from './miniflare-worker.js';
import { startModelServerProcess } from './model-process.js';
import { startNodeHop } from './node-hop.js';

const GATEWAY_PORT = Number(process.env.BENCH_GATEWAY_PORT ?? 18787);
const BASELINE_PORT = Number(process.env.BENCH_BASELINE_PORT ?? 18797);
/** The `wrangler dev` reference passthrough (and +1 for its inspector). */
const REFERENCE_PORT = BASELINE_PORT + 2;
const referenceUrl = `http://127.0.0.1:${REFERENCE_PORT}`;
type KvSnapshot = Map<string, number | undefined>;
interface KvLister {
  list(o: { cursor?: string }): Promise<{
    keys: { name: string; expiration?: number }[];
    list_complete: boolean;
    cursor?: string;
  }>;
}

/** Every KV key with its expiration: a put with a TTL moves the expiration, a new key appears. */
async function kvSnapshot(kv: unknown): Promise<KvSnapshot> {
  const out: KvSnapshot = new Map();
  let cursor: string | undefined;
  for (;;) {
    const page = await (kv as KvLister).list(cursor ? { cursor } : {});
    for (const k of page.keys) out.set(k.name, k.expiration);
    if (page.list_complete || !page.cursor) return out;
    cursor = page.cursor;
  }
}

/**
 * KV writes between two snapshots: keys that appeared or whose expiration moved. A lower bound (a
 * rewrite without a TTL, or within the same second, does not show) — every per-answer write the
 * gateway ever made (`rcpt:<id>`, a new key with a TTL) shows.
 */
function kvChanges(before: KvSnapshot, after: KvSnapshot): number {
  let n = 0;
  for (const [name, exp] of after) if (!before.has(name) || before.get(name) !== exp) n++;
  return n;
}
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 2_000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 12_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** The unloaded phases (one request at a time): latency and time to first chunk without queueing. */
const SINGLE_MS = Number(process.env.BENCH_SINGLE_MS ?? 6_000);
export const LONG_STREAM_BYTES = Number(process.env.BENCH_LONG_BYTES ?? 100 * 1024 * 1024);

export interface Phase {
  name: string;
  /**
   * sealed: the stack; limited: the stack with a key that has limits; plain: passthrough → model
   * server; hop: passthrough → Node hop → model server; wranglerDev: plain, but the passthrough
   * under `wrangler dev` (reference only).
   */
  target: 'sealed' | 'limited' | 'metered' | 'plain' | 'hop' | 'wranglerDev';
  stream: boolean;
  concurrency: number;
  result: LoadResult;
  /** `/v1/attestation` calls on the attestation service during the phase. */
  attestations: number;
  /** CPU ms per measured request, by process (null off Linux): see `CpuParts`. */
  cpu: CpuParts | null;
  /** Sealed phases: KV entries the gateway wrote or rewrote during the phase (warm-up included). */
  kvWrites: number | null;
}

/**
 * Where the CPU of one request goes, ms per request over the measured window. `worker`: the workerd
 * that runs the Worker (the gateway, or the passthrough); `proxy`: wrangler dev's proxy workerd in
 * front of it; `wrangler`: the rest of that `wrangler dev` process group (its Node process, which
 * also receives every inspector event of the Worker); `node`: this runner process less the load
 * generator's thread — the attestation service and AI worker (sealed), the plaintext Node hop (hop),
 * nothing but idle timers (plain); `model`: the model server; `load`: the load generator's thread.
 */
export interface CpuParts {
  worker: number;
  proxy: number;
  wrangler: number;
  node: number;
  model: number;
  load: number;
}

export interface MacroRun {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  singleMs: number;
  promptBytes: number;
  phases: Phase[];
  memory: MemoryTrace[];
  /** `/v1/attestation` calls from stack start to the end of the run (incl. the first key). */
  attestationsTotal: number;
  attestationsDuringLoad: number;
  /** Wall time of the sealed load phases (warm-up included), seconds. */
  sealedLoadSeconds: number;
  /** `/v1/attestation` calls during the plaintext phases (the control: no sealed traffic then). */
  attestationsDuringPlain: number;
  /** Seconds between the key-rotation DO's scheduled attestations at most (interval − overlap). */
  rotationCadenceSeconds: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function load(
  job: LoadJob,
  onWindow?: (edge: 'start' | 'end') => void,
  /** Drain with `pauseEveryBytes`: called at each pause; reading resumes when it settles. */
  onPause?: (bytes: number) => Promise<void>,
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // tsx's loader hooks do not reach worker threads on Node 20: load the TypeScript entry through tsx's API.
    const entry = JSON.stringify(new URL('./load-worker.ts', import.meta.url).href);
    const w = new Worker(
      `import('tsx/esm/api').then((m) => m.tsImport(${entry}, ${JSON.stringify(import.meta.url)}))`,
      {
        eval: true,
        workerData: job,
      },
    );
    w.on(
      'message',
      (m: {
        ok?: boolean;
        result?: LoadResult;
        error?: string;
        window?: 'start' | 'end';
        pause?: number;
      }) => {
        if (m.pause !== undefined) {
          const resume = () => w.postMessage('resume');
          (onPause ? onPause(m.pause) : Promise.resolve()).then(resume, resume);
          return;
        }
        if (m.window) {
          onWindow?.(m.window);
          return;
        }
        void w.terminate();
        if (m.ok) resolve(m.result!);
        else reject(new Error(m.error));
      },
    );
    w.once('error', reject);
  });
}

/** The reference: the plaintext passthrough under `wrangler dev` (its own process group). */
async function startBaseline(
  root: string,
  upstream: string,
  hop: string,
  persistDir: string,
): Promise<ChildProcess> {
  const child = spawn(
    'npx',
    [
      'wrangler',
      'dev',
      '--config',
      join(root, 'bench/workerd/passthrough.toml'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(REFERENCE_PORT),
      '--inspector-port',
      String(REFERENCE_PORT + 1),
      '--persist-to',
      persistDir,
      '--var',
      `UPSTREAM:${upstream}`,
      '--var',
      `UPSTREAM_HOP:${hop}`,
    ],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore'],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        NO_COLOR: '1',
      },
    },
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('baseline: wrangler dev exited');
    const ok = await fetch(`http://127.0.0.1:${REFERENCE_PORT}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    if (Date.now() > deadline) {
      await stopGroup(child);
      throw new Error('baseline not ready within 120 s');
    }
    await sleep(250);
  }
}

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  rss: number;
  args: string;
}

function processes(): Proc[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,rss=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: +m[1]!, ppid: +m[2]!, pgid: +m[3]!, rss: +m[4]!, args: m[5]! }));
}

/**
 * The workerd processes of a `wrangler dev` process group: `worker` runs the Worker, `proxy` is
 * wrangler's proxy on the public `port` (it forwards every request to the Worker's workerd).
 */
export function workerdOf(pgid: number | undefined, port: number): { worker: number[]; proxy: number[] } {
  const all = processes();
  const group = pgid ?? all.find((p) => /wrangler/.test(p.args) && p.args.includes(`--port ${port}`))?.pgid;
  const w = all.filter((p) => p.pgid === group && /\/workerd\s/.test(`${p.args} `));
  const isProxy = (p: Proc) =>
    p.args.includes(`entry=127.0.0.1:${port} `) || p.args.endsWith(`entry=127.0.0.1:${port}`);
  return {
    worker: w.filter((p) => !isProxy(p)).map((p) => p.pid),
    proxy: w.filter(isProxy).map((p) => p.pid),
  };
}

/** CPU ms per measured request, by part, from the samples at the window's edges (null when any is missing). */
function cpuParts(
  start: Record<string, number | null> | undefined,
  end: Record<string, number | null> | undefined,
  result: LoadResult,
): CpuParts | null {
  if (!start || !end || result.requests === 0 || result.loadCpuMs == null) return null;
  const per = (k: string, minus = 0): number | null => {
    const a = start[k];
    const b = end[k];
    return a == null || b == null ? null : (b - a - minus) / result.requests;
  };
  const parts = {
    worker: per('worker'),
    proxy: per('proxy'),
    wrangler: per('wrangler'),
    node: per('node', result.loadCpuMs),
    model: per('model'),
    load: result.loadCpuMs / result.requests,
  };
  return Object.values(parts).some((v) => v === null) ? null : (parts as CpuParts);
}

/** The long stream, drained by the load generator, given up after `BENCH_LONG_TIMEOUT_MS`. */
async function drainCapped(job: LoadJob, onPause: (bytes: number) => Promise<void>): Promise<LoadResult> {
  const capMs = Number(process.env.BENCH_LONG_TIMEOUT_MS ?? 300_000);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const capped = new Promise<LoadResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          requests: 0,
          errors: 1,
          firstError: `not finished within ${capMs / 1000} s`,
          seconds: capMs / 1000,
          rps: 0,
          latencyMs: { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN },
          ttfcMs: null,
          bytes: 0,
        }),
      capMs,
    );
  });
  return await Promise.race([load(job, undefined, onPause), capped]).finally(() => clearTimeout(timer));
}

export async function runMacro(root: string, say: (s: string) => void): Promise<MacroRun> {
  const counter = countAttestations();
  const devDir = await mkdtemp(join(tmpdir(), 'sealgate-bench-dev-'));
  const persist = await mkdtemp(join(tmpdir(), 'sealgate-bench-wrangler-'));
  const closers: (() => Promise<void>)[] = [];
  try {
    const targets = await startTargets(root, { devDir, persist }, closers, say);
    counter.servicePort = Number(new URL(targets.stack.serviceUrl).port);
    const headers = await phaseHeaders(targets.stack.apiKey, join(persist, 'gateway'), devDir);
    const totals = { duringLoad: 0, duringPlain: 0, sealedLoadSeconds: 0 };
    const phases: Phase[] = [];
    for (const step of loadPlan()) {
      for (const target of step.targets) {
        phases.push(await runLoadPhase(targets, headers, counter, totals, { ...step, target }, say));
      }
    }
    await stopGroup(targets.reference);
    const memory = await traceLongStreams(targets, headers.unlimited, say);
    return {
      concurrency: CONCURRENCY,
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
      singleMs: SINGLE_MS,
      promptBytes: PROMPT_BYTES,
      phases,
      memory,
      attestationsTotal: counter.count,
      attestationsDuringLoad: totals.duringLoad,
      sealedLoadSeconds: totals.sealedLoadSeconds,
      attestationsDuringPlain: totals.duringPlain,
      rotationCadenceSeconds: await rotationCadence(devDir),
    };
  } finally {
    counter.close();
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await rm(devDir, { recursive: true, force: true });
    await rm(persist, { recursive: true, force: true });
  }
}

const PROMPT_BYTES = 4096;

interface AttestationCounter {
  /** The attestation service's port, once known; -1 counts nothing. */
  servicePort: number;
  /** `/v1/attestation` requests the service has received since servicePort was set. */
  readonly count: number;
  close(): void;
}

/**
 * Every HTTP request this process serves passes the `http.server.request.start` channel; those to
 * the attestation service's `/v1/attestation` are counted (the only way a verification starts).
 */
function countAttestations(): AttestationCounter {
  let count = 0;
  const counter = {
    servicePort: -1,
    get count() {
      return count;
    },
    close: () => dc.unsubscribe('http.server.request.start', onRequest),
  };
  const onRequest = (msg: unknown) => {
    const { request, server } = msg as { request: IncomingMessage; server: Server };
    const port = (server.address() as AddressInfo | null)?.port;
    if (port === counter.servicePort && request.url?.startsWith('/v1/attestation')) count++;
  };
  dc.subscribe('http.server.request.start', onRequest);
  return counter;
}

type Workerds = { worker: number[]; proxy: number[] };

/** What the phases run against; every part is in `closers` once started. */
interface Targets {
  model: Awaited<ReturnType<typeof startModelServerProcess>>;
  stack: Awaited<ReturnType<typeof startStack>>;
  gatewayPids: Workerds;
  kv: unknown;
  baselineUrl: string;
  baselinePids: Workerds;
  reference: ChildProcess;
  referencePids: Workerds;
}

/** Model server, the stack (gateway in workerd), the Node hop, the passthrough, the reference. */
async function startTargets(
  root: string,
  dirs: { devDir: string; persist: string },
  closers: (() => Promise<void>)[],
  say: (s: string) => void,
): Promise<Targets> {
  const { devDir, persist } = dirs;
  const model = await startModelServerProcess(root, LONG_STREAM_BYTES);
  closers.push(async () => {
    model.child.kill('SIGTERM');
    await sleep(200);
  });
  say(`  model server ${model.url}`);
  say('  starting the stack (startStack: service, worker; the gateway in workerd via Miniflare)…');
  let gateway: MiniflareWorker | undefined;
  const stack = await startStack({
    port: GATEWAY_PORT,
    servicePort: 0,
    workerPort: 0,
    devDir,
    // Fresh state: no Durable Object keys wrapped under an earlier run's GATEWAY_SECRET.
    persistTo: join(persist, 'gateway'),
    modelUrl: model.url,
    verbose: false,
    runGateway: async ({ port, vars, persistTo }) => {
      // The inspector is opened for the memory trace only; nothing attaches until the load is over.
      gateway = await startGatewayWorker(root, join(persist, 'gateway-bundle'), {
        port,
        vars,
        persistTo,
        inspectorPort: GATEWAY_PORT + 1,
      });
      return gateway;
    },
  });
  closers.push(() => stack.close());
  const gatewayPids = { worker: gateway!.pids, proxy: [] as number[] };
  const kv = await gateway!.mf.getKVNamespace('SEALGATE_KV');
  say(`  gateway ${stack.url} (workerd ${gatewayPids.worker.join(', ')})`);
  say('  starting the plaintext baseline (the passthrough Worker, in workerd via Miniflare)…');
  const hop = await startNodeHop(model.url);
  closers.push(() => hop.close());
  const passthrough = await startMiniflareWorker({
    root,
    dir: join(persist, 'passthrough-bundle'),
    config: join(root, 'bench/workerd/passthrough.toml'),
    entry: 'passthrough.js',
    port: BASELINE_PORT,
    bindings: { UPSTREAM: model.url, UPSTREAM_HOP: hop.url },
  });
  closers.push(() => passthrough.close());
  say('  starting the reference (the same passthrough under wrangler dev)…');
  const reference = await startBaseline(root, model.url, hop.url, join(persist, 'reference'));
  closers.push(() => stopGroup(reference));
  return {
    model,
    stack,
    gatewayPids,
    kv,
    baselineUrl: passthrough.url,
    baselinePids: { worker: passthrough.pids, proxy: [] },
    reference,
    referencePids: workerdOf(reference.pid, REFERENCE_PORT),
  };
}

type Headers = Record<string, string>;

/** The stack's unlimited key, and the two bench keys (`limited`, `metered`) made in its KV. */
async function phaseHeaders(
  apiKey: string,
  gatewayPersist: string,
  devDir: string,
): Promise<{ unlimited: Headers; limited: Headers; metered: Headers }> {
  const unlimited = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  return {
    unlimited,
    limited: {
      ...unlimited,
      authorization: `Bearer ${await createBenchKey(gatewayPersist, devDir, 'limited')}`,
    },
    metered: {
      ...unlimited,
      authorization: `Bearer ${await createBenchKey(gatewayPersist, devDir, 'metered')}`,
    },
  };
}

interface PlanStep {
  stream: boolean;
  concurrency: number;
  warm: number;
  ms: number;
  targets: Phase['target'][];
}

/** Under load (JSON, then streamed), unloaded (one at a time), then the wrangler dev reference. */
function loadPlan(): PlanStep[] {
  return [
    ...[false, true].map((stream) => ({
      stream,
      concurrency: CONCURRENCY,
      warm: WARMUP_MS,
      ms: DURATION_MS,
      targets: ['sealed', 'limited', 'metered', 'plain', 'hop'] as Phase['target'][],
    })),
    ...[false, true].map((stream) => ({
      stream,
      concurrency: 1,
      warm: 1_000,
      ms: SINGLE_MS,
      targets: ['sealed', 'plain', 'hop'] as Phase['target'][],
    })),
    // The development tool, for reference: the plain passthrough under wrangler dev.
    { stream: false, concurrency: CONCURRENCY, warm: WARMUP_MS, ms: DURATION_MS, targets: ['wranglerDev'] },
  ];
}

const isSealed = (t: Phase['target']): boolean => t === 'sealed' || t === 'limited' || t === 'metered';

/** The processes whose CPU a phase charges to each part (see CpuParts). */
function phaseProcessGroups(
  targets: Targets,
  target: Phase['target'],
): Record<keyof Omit<CpuParts, 'load'>, number[]> {
  const { reference, model } = targets;
  const workerds = isSealed(target)
    ? targets.gatewayPids
    : target === 'wranglerDev'
      ? targets.referencePids
      : targets.baselinePids;
  return {
    worker: workerds.worker,
    proxy: workerds.proxy,
    wrangler:
      target === 'wranglerDev' && reference.pid !== undefined
        ? processGroup(reference.pid).filter(
            (pid) => !workerds.worker.includes(pid) && !workerds.proxy.includes(pid),
          )
        : [],
    node: [process.pid],
    model: model.child.pid === undefined ? [] : [model.child.pid],
  };
}

/**
 * One phase: the load, CPU sampled at the measured window's edges, KV writes (the `sealed` phase
 * only) and the attestations it caused; adds to `totals` and says one line.
 */
async function runLoadPhase(
  targets: Targets,
  headers: Awaited<ReturnType<typeof phaseHeaders>>,
  counter: AttestationCounter,
  totals: { duringLoad: number; duringPlain: number; sealedLoadSeconds: number },
  step: Omit<PlanStep, 'targets'> & { target: Phase['target'] },
  say: (s: string) => void,
): Promise<Phase> {
  const { stream, concurrency, target } = step;
  const sealed = isSealed(target);
  const body = JSON.stringify(chatBody(PROMPT_BYTES, stream));
  const before = counter.count;
  const began = performance.now();
  const groups = phaseProcessGroups(targets, target);
  const sample = () =>
    Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, processesCpuMs(pids)]));
  const edges: Record<string, ReturnType<typeof sample>> = {};
  const kvBefore = target === 'sealed' ? await kvSnapshot(targets.kv) : null;
  const result = await load(
    {
      mode: 'load',
      url: sealed ? targets.stack.url : target === 'wranglerDev' ? referenceUrl : targets.baselineUrl,
      path: target === 'hop' ? '/hop/v1/chat/completions' : '/v1/chat/completions',
      headers: target === 'limited' || target === 'metered' ? headers[target] : headers.unlimited,
      body,
      stream,
      concurrency,
      warmupMs: step.warm,
      durationMs: step.ms,
    },
    (edge) => {
      edges[edge] = sample();
    },
  );
  const cpu = cpuParts(edges.start, edges.end, result);
  const kvWrites = kvBefore ? kvChanges(kvBefore, await kvSnapshot(targets.kv)) : null;
  const n = counter.count - before;
  if (sealed) {
    totals.duringLoad += n;
    totals.sealedLoadSeconds += (performance.now() - began) / 1000;
  } else if (target === 'plain') {
    totals.duringPlain += n;
  }
  const name = `${target}.${stream ? 'stream' : 'json'}.c${concurrency}`;
  say(phaseLine(name, result, cpu, kvWrites, n));
  return { name, target, stream, concurrency, result, attestations: n, cpu, kvWrites };
}

function phaseLine(
  name: string,
  result: LoadResult,
  cpu: CpuParts | null,
  kvWrites: number | null,
  n: number,
): string {
  return `  ${name.padEnd(22)} ${result.rps.toFixed(1)} req/s  p50 ${result.latencyMs.p50.toFixed(1)} ms  p99 ${result.latencyMs.p99.toFixed(1)} ms${
    result.ttfcMs ? `  TTFC p50 ${result.ttfcMs.p50.toFixed(1)} ms` : ''
  }${cpu ? `  CPU/req worker ${cpu.worker.toFixed(2)} node ${cpu.node.toFixed(2)} ms` : ''}${
    kvWrites === null ? '' : `  KV writes ${kvWrites}`
  }  errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ''}  attestations ${n}`;
}

/** The 100 MB stream through the gateway (and the passthrough with BENCH_LONG_BASELINE=1), RSS traced. */
async function traceLongStreams(
  targets: Targets,
  headers: Headers,
  say: (s: string) => void,
): Promise<MemoryTrace[]> {
  const longBody = JSON.stringify({
    model: 'bench-long',
    stream: true,
    messages: [{ role: 'user', content: 'a long answer, please' }],
  });
  const memory: MemoryTrace[] = [];
  // The plaintext long stream is off by default: wrangler dev's own Node process and proxy grow by
  // gigabytes under it (not the Worker), which once stalled the run past its time budget.
  const longTargets =
    process.env.BENCH_LONG_BASELINE === '1' ? (['sealed', 'plain'] as const) : (['sealed'] as const);
  const longUrl = (t: 'sealed' | 'plain') => (t === 'sealed' ? targets.stack.url : targets.baselineUrl);
  for (const target of longTargets) {
    memory.push(
      await memoryTrace(
        target,
        // Looked up now: wrangler dev may have restarted the Worker's workerd since start.
        target === 'sealed' ? targets.gatewayPids : targets.baselinePids,
        (onPause) =>
          drainCapped(
            {
              mode: 'drain',
              url: longUrl(target),
              path: '/v1/chat/completions',
              headers,
              body: longBody,
              stream: true,
              concurrency: 1,
              warmupMs: 0,
              durationMs: 0,
              pauseEveryBytes: LONG_STREAM_BYTES / 20,
            },
            onPause,
          ),
        // Any request enters the isolate (the passthrough answers 404 here; that is enough).
        async () => {
          await (await fetch(`${longUrl(target)}/healthz`)).arrayBuffer();
        },
        say,
      ),
    );
  }
  return memory;
}

/** Seconds between the key-rotation DO's scheduled attestations at most: interval − overlap. */
async function rotationCadence(devDir: string): Promise<number | null> {
  return await readFile(join(devDir, 'manifest.dev.json'), 'utf8').then(
    (t) => {
      const k = (JSON.parse(t) as { keyPolicy?: { rotationIntervalSeconds: number; overlapSeconds: number } })
        .keyPolicy;
      return k ? k.rotationIntervalSeconds - k.overlapSeconds : null;
    },
    () => null,
  );
}
