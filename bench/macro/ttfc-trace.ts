/**
 * Where the time to first chunk goes (issue #18 target 5): a latency trace of streamed chat
 * completions sent one at a time, through the sealed stack and through the plaintext passthrough
 * with the Node hop, interleaved request by request (sealed, hop, sealed, …) in one process, so
 * both see the same moments of a shared machine. Bench only: nothing in src/ is changed to trace.
 *
 * Every timestamp is this process's monotonic clock (`process.hrtime`: one clock in every thread),
 * taken where Node sees the request: the client on its own thread (ttfc-client.ts, as the macro
 * bench's load generator), and the Node server behind the Worker —
 * the AI worker (sealed) or the hop — through Node's own `diagnostics_channel` events
 * (`net.server.socket`, `http.server.request.start`, `http.client.request.created`) plus a listener on
 * the objects they hand over (the request's `end`, the model socket's first `data`, the server
 * response's first `write`). workerd's share (the gateway, or the passthrough Worker) is the gaps
 * around the Node server: `send → head` and `written → first byte`.
 *
 *   head      the Node server's listener has the request head (from the Worker)
 *   body      … and the body's end
 *   model     it calls the model server (a node:http request is created)
 *   modelByte the model server's first byte arrives on that socket
 *   written   the Node server writes its first body chunk (the AI worker: the first sealed frame)
 *   firstByte the client has the answer's first byte;  firstEvent: its first whole SSE event;
 *   end       the answer's end (a stream of 56 events)
 *
 * Beside the times: whether the Worker→Node connection was new (a socket accepted during the
 * request) and whether the model call reused a kept-alive socket. With `TRACE_SCHED=1`, also who ran
 * in each gap: the Linux scheduler's counters (`/proc/…/task/…/schedstat`: ns on a CPU, ns waiting
 * for one) of the main threads of this process, the target's workerd and the model server, read at every point (each
 * reading costs this thread some µs, on both paths alike).
 *
 *   [TRACE_N=200] [TRACE_PORT=18937] [TRACE_SCHED=1] [TRACE_PROFILE=1|node] [TRACE_BASE=../base] [TRACE_OUT=trace.json] npx tsx bench/macro/ttfc-trace.ts
 */
import dc from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as StackModule from '../../src/dev/stack.js';
import { inspector, type Profile } from './cdp.js';
import { schedReader } from './cpu-time.js';
import { startModelServerProcess } from './model-process.js';
import {
  benchBody,
  hrMs,
  quantile,
  startPassthroughTarget,
  startSealedTarget,
  type Target,
} from './stack-targets.js';
import type { ClientJob, ClientResult, ClientSched } from './ttfc-client.js';

const root = join(import.meta.dirname, '../..');
const N = Number(process.env.TRACE_N ?? 200);
const PORT = Number(process.env.TRACE_PORT ?? 18937);
const WARMUP = 30;
/**
 * TRACE_PROFILE=1: V8's sampling profiler in both workerds during the trace, its samples counted per
 * gap; TRACE_PROFILE=node: this process's main thread (the AI worker) instead.
 */
const PROFILE = process.env.TRACE_PROFILE === '1';
const SAMPLE_US = 50;

const POINTS = ['head', 'body', 'model', 'modelByte', 'written', 'firstByte', 'firstEvent', 'end'] as const;
/** Not in sequence: the Node server's first socket write (its answer's head), the client's answer head. */
const EXTRA = ['headOut', 'clientHead'] as const;
type Point = (typeof POINTS)[number] | (typeof EXTRA)[number];

/** Scheduler counters at a point (TRACE_SCHED=1), ns: on a CPU and runnable-but-waiting, per party. */
type Sched = Record<Party, { runNs: number; waitNs: number }>;
type Party = 'node' | 'workerd' | 'model';
const PARTIES: readonly Party[] = ['node', 'workerd', 'model'];

/** One request's trace: ms after the client's call, per point (absent: not seen). */
interface Trace {
  at: Partial<Record<Point, number>>;
  /** With TRACE_SCHED=1: the counters at `send` and at each point. */
  sched: Partial<Record<Point | 'send', Sched>>;
  /** Sockets the Node server accepted while this request ran (the Worker opened a connection). */
  accepted: number;
  /** The model call went out on a kept-alive socket. */
  modelReused: boolean | null;
  /** SSE events in the client's first body chunk. */
  firstChunkEvents: number;
  /** The client's call, `hrMs()`. */
  sentAt: number;
  /** Points seen on this thread, `hrMs()` (made relative to `sentAt` once the answer is in). */
  abs: Partial<Record<Point, number>>;
}

/** The request being traced (one at a time) and the ports that belong to it. */
let current: {
  trace: Trace;
  nodePort: number;
  modelPort: number;
  sched: (() => Sched) | null;
} | null = null;

function mark(point: Point): void {
  if (!current || current.trace.abs[point] !== undefined) return;
  current.trace.abs[point] = hrMs();
  if (current.sched) current.trace.sched[point] = current.sched();
}

/**
 * The scheduler counters of this process (the AI worker or the hop, and the client), the target's
 * workerd and the model server: read at each point, so each gap says who ran in it and who waited
 * for a CPU; the rest of a gap is time nobody of the three was running (I/O, wake-ups, timers).
 */
const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

function schedOf(target: Target, modelPid: number): () => Sched {
  // The main threads: this process's JavaScript (worker or hop, and the client), the isolate's.
  const readers = {
    node: schedReader([process.pid], comm(process.pid)),
    workerd: schedReader(target.pids, 'workerd'),
    model: schedReader([modelPid], comm(modelPid)),
  };
  return () => ({ node: readers.node(), workerd: readers.workerd(), model: readers.model() });
}

const TRACED = Symbol('traced');

function portOf(server: Server): number | undefined {
  const a = server.address();
  return a && typeof a === 'object' ? a.port : undefined;
}

/** diagnostics_channel observers; they do nothing while no request is traced. */
function observe(): () => void {
  const onSocket = (msg: unknown) => {
    const { socket } = msg as { socket: Socket };
    if (current && socket.localPort === current.nodePort) current.trace.accepted++;
  };
  const onServerRequest = (msg: unknown) => {
    const { request, response, server } = msg as {
      request: IncomingMessage;
      response: ServerResponse;
      server: Server;
    };
    if (!current || portOf(server) !== current.nodePort) return;
    mark('head');
    request.once('end', () => mark('body'));
    const socket = request.socket as (Socket & { [TRACED]?: true }) | null;
    if (socket && !socket[TRACED]) {
      socket[TRACED] = true;
      const socketWrite = socket.write;
      socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
        mark('headOut');
        return socketWrite.apply(this, args);
      } as Socket['write'];
    }
    const write = response.write;
    response.write = function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>) {
      mark('written');
      return write.apply(this, args);
    } as ServerResponse['write'];
  };
  const onClientRequest = (msg: unknown) => {
    const { request } = msg as { request: ClientRequest };
    if (!current) return;
    const [, port] = (request.getHeader('host') as string | undefined)?.split(':') ?? [];
    if (Number(port) !== current.modelPort) return;
    mark('model');
    const trace = current.trace;
    trace.modelReused = request.reusedSocket;
    const onSocket = (s: Socket) =>
      s.once('data', () => {
        if (current?.trace === trace) mark('modelByte');
      });
    if (request.socket) onSocket(request.socket);
    else request.once('socket', onSocket);
  };
  dc.subscribe('net.server.socket', onSocket);
  dc.subscribe('http.server.request.start', onServerRequest);
  dc.subscribe('http.client.request.created', onClientRequest);
  return () => {
    dc.unsubscribe('net.server.socket', onSocket);
    dc.unsubscribe('http.server.request.start', onServerRequest);
    dc.unsubscribe('http.client.request.created', onClientRequest);
  };
}

/** The client thread (ttfc-client.ts), loaded through tsx's API as run-macro.ts loads its load thread. */
function startClient(config: ClientSched): { post(job: ClientJob): Promise<ClientResult>; close(): void } {
  const entry = JSON.stringify(new URL('./ttfc-client.ts', import.meta.url).href);
  const w = new Worker(
    `import('tsx/esm/api').then((m) => m.tsImport(${entry}, ${JSON.stringify(import.meta.url)}))`,
    { eval: true, workerData: config },
  );
  return {
    post: (job) =>
      new Promise<ClientResult>((resolve, reject) => {
        w.once('message', (m: ClientResult | { error: string }) =>
          'error' in m ? reject(new Error(m.error)) : resolve(m),
        );
        w.postMessage(job);
      }),
    close: () => void w.terminate(),
  };
}

async function traceOne(
  client: ReturnType<typeof startClient>,
  name: string,
  target: Target,
  body: string,
  modelPort: number,
  sched: (() => Sched) | null,
): Promise<Trace> {
  const trace: Trace = {
    at: {},
    abs: {},
    sched: {},
    accepted: 0,
    modelReused: null,
    firstChunkEvents: 0,
    sentAt: 0,
  };
  const nodePort = Number(new URL(target.nodeUrl!).port);
  if (sched) trace.sched.send = sched();
  current = { trace, nodePort, modelPort, sched };
  try {
    const { times, sched: clientSched } = await client.post({
      target: name,
      url: `${target.url}${target.path}`,
      apiKey: target.apiKey,
      body,
      sched: sched !== null,
    });
    trace.sentAt = times.sentAt;
    for (const [p, t] of Object.entries(trace.abs)) trace.at[p as Point] = t - times.sentAt;
    trace.at.clientHead = times.head;
    trace.at.firstByte = times.firstByte;
    trace.at.firstEvent = times.firstEvent;
    trace.at.end = times.end;
    trace.firstChunkEvents = times.firstChunkEvents;
    Object.assign(trace.sched, clientSched);
    return trace;
  } finally {
    current = null;
  }
}

/** The p50 and p90 of each point and of each gap between consecutive points, as table rows. */
function summary(traces: readonly Trace[]): Map<string, [number, number]> {
  const rows = new Map<string, [number, number]>();
  const stat = (values: number[]): [number, number] => {
    const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    return [quantile(s, 0.5), quantile(s, 0.9)];
  };
  let prev = 'send';
  for (const p of POINTS) {
    rows.set(`${prev} → ${p}`, stat(traces.map((t) => (t.at[p] ?? Number.NaN) - (t.at[prev as Point] ?? 0))));
    prev = p;
  }
  for (const p of [...POINTS, ...EXTRA])
    rows.set(`send → ${p}`, stat(traces.map((t) => t.at[p] ?? Number.NaN)));
  return rows;
}

/**
 * Per gap between consecutive points (TRACE_SCHED=1): mean wall ms, and mean ms each party ran on
 * a CPU (`run`) and waited for one (`wait`) — means, so that the parts of the gaps add up.
 */
function printSched(name: string, traces: readonly Trace[]): void {
  const mean = (f: (t: Trace) => number) => {
    const v = traces.map(f).filter((x) => Number.isFinite(x));
    return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  };
  process.stdout.write(`${name}: mean ms   wall |  node run wait | workerd run wait | model run wait\n`);
  let prev: Point | 'send' = 'send';
  for (const p of POINTS) {
    const from = prev;
    const wall = mean((t) => (t.at[p] ?? Number.NaN) - (from === 'send' ? 0 : (t.at[from] ?? Number.NaN)));
    const parts = PARTIES.map((party) => {
      const d = (k: 'runNs' | 'waitNs') =>
        mean((t) => {
          const a = t.sched[from]?.[party];
          const b = t.sched[p]?.[party];
          return a && b ? (b[k] - a[k]) / 1e6 : Number.NaN;
        });
      return `${d('runNs').toFixed(3).padStart(6)} ${d('waitNs').toFixed(3).padStart(6)}`;
    });
    process.stdout.write(
      `${`${from} → ${p}`.padEnd(24)} ${wall.toFixed(3).padStart(6)} | ${parts.join(' | ')}\n`,
    );
    prev = p;
  }
}

/**
 * The workerd's samples that fall in the gaps `from → to` of the traces, counted per function (its
 * self samples) per request: counts, not the samples' wall-clock deltas — a thread descheduled on a
 * loaded machine puts its whole gap on the one sample taken when it runs again (profile-gateway.ts).
 */
function printProfileGap(
  name: string,
  profile: Profile,
  traces: readonly Trace[],
  from: Point | 'send',
  to: Point,
): void {
  const windows = traces
    .map((t) => {
      const a = from === 'send' ? 0 : t.at[from];
      const b = t.at[to];
      if (a === undefined || b === undefined) return null;
      // hrMs() is CLOCK_MONOTONIC, as V8's profile timestamps (µs) on Linux.
      return [(t.sentAt + a) * 1e3, (t.sentAt + b) * 1e3] as const;
    })
    .filter((w) => w !== null)
    .sort((x, y) => x[0] - y[0]);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<string, number>();
  let ts = profile.startTime;
  let w = 0;
  profile.samples.forEach((id, i) => {
    ts += profile.timeDeltas[i] ?? 0;
    while (w < windows.length && windows[w]![1] < ts) w++;
    if (w >= windows.length || ts < windows[w]![0]) return;
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').at(-1)}:${f.lineNumber + 1}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  const n = windows.length;
  const busy = [...counts].filter(([k]) => !k.startsWith('(idle)')).reduce((a, [, c]) => a + c, 0);
  process.stdout.write(
    `${name}, ${from} → ${to}: ${(busy / n).toFixed(2)} busy samples per request (of ${SAMPLE_US} µs asked)\n`,
  );
  for (const [k, c] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 24)) {
    process.stdout.write(`  ${(c / n).toFixed(2).padStart(6)}  ${k}\n`);
  }
}

/** `a` against `b`, point by point and gap by gap (p50, p90, and the difference of the p50s). */
function print(results: Record<string, Trace[]>, a: string, b: string): void {
  const [sealed, hop] = [summary(results[a]!), summary(results[b]!)];
  const f = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(3)).padStart(7);
  process.stdout.write(
    `${'ms'.padEnd(24)} ${a.padStart(7)} p50    p90 | ${b.padStart(4)} p50    p90 | Δ p50\n`,
  );
  for (const [name, [s50, s90]] of sealed) {
    const [h50, h90] = hop.get(name) ?? [Number.NaN, Number.NaN];
    process.stdout.write(`${name.padEnd(24)} ${f(s50)} ${f(s90)} | ${f(h50)} ${f(h90)} | ${f(s50 - h50)}\n`);
  }
}

function printConnections(results: Record<string, Trace[]>): void {
  for (const [name, traces] of Object.entries(results)) {
    const fresh = traces.filter((t) => t.accepted > 0).length;
    const reused = traces.filter((t) => t.modelReused === true).length;
    const events = traces.map((t) => t.firstChunkEvents).sort((a, b) => a - b);
    process.stdout.write(
      `${name}: ${traces.length} streams; Worker→Node on a new connection ${fresh}; model call on a kept-alive socket ${reused}; SSE events in the first chunk p50 ${quantile(events, 0.5)}, p90 ${quantile(events, 0.9)}, max ${events.at(-1)}\n`,
    );
  }
}

const dir = await mkdtemp(join(tmpdir(), 'sealgate-ttfc-'));
const model = await startModelServerProcess(root);
const modelPort = Number(new URL(model.url).port);
/**
 * TRACE_BASE=<another checkout with node_modules>: a third target, `base`, the sealed stack of that
 * tree (its src/ imported into this process, its gateway bundled from it), interleaved with the
 * other two request by request: an A/B of a change that a loaded machine's drift cannot skew.
 */
const BASE = process.env.TRACE_BASE;
type Name = 'sealed' | 'hop' | 'base';
const targets: Partial<Record<Name, Target>> & Record<'sealed' | 'hop', Target> = {
  sealed: await startSealedTarget(root, join(dir, 'sealed'), model.url, {
    port: PORT,
    ...(PROFILE ? { inspectorPort: PORT + 2 } : {}),
  }),
  hop: await startPassthroughTarget(
    root,
    join(dir, 'hop'),
    model.url,
    { port: PORT + 1, ...(PROFILE ? { inspectorPort: PORT + 3 } : {}) },
    true,
  ),
};
if (BASE) {
  const stack = (await import(pathToFileURL(join(BASE, 'src/dev/stack.ts')).href)) as typeof StackModule;
  targets.base = await startSealedTarget(
    BASE,
    join(dir, 'base'),
    model.url,
    { port: PORT + 4 },
    'stack',
    stack.startStack,
  );
}
const names = Object.keys(targets) as Name[];
const stop = observe();
const SCHED = process.env.TRACE_SCHED === '1';
const scheds = Object.fromEntries(names.map((n) => [n, schedOf(targets[n]!, model.child.pid!)]));
try {
  const body = benchBody(true);
  const client = startClient({
    node: { pids: [process.pid], name: comm(process.pid) },
    workerd: Object.fromEntries(names.map((n) => [n, targets[n]!.pids])),
    model: { pids: [model.child.pid!], name: comm(model.child.pid!) },
  });
  const results: Record<string, Trace[]> = Object.fromEntries(names.map((n) => [n, []]));
  const sessions = PROFILE ? { sealed: await inspector(PORT + 2), hop: await inspector(PORT + 3) } : null;
  for (const cdp of Object.values(sessions ?? {})) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: SAMPLE_US });
    await cdp.send('Profiler.start');
  }
  // TRACE_PROFILE=node: this process's main thread instead (the AI worker's side).
  const nodeSession = process.env.TRACE_PROFILE === 'node' ? new Session() : null;
  if (nodeSession) {
    nodeSession.connect();
    await nodeSession.post('Profiler.enable');
    await nodeSession.post('Profiler.setSamplingInterval', { interval: SAMPLE_US });
    await nodeSession.post('Profiler.start');
  }
  const loadBefore = loadavg();
  for (let i = 0; i < WARMUP + N; i++) {
    // Rotated each round: no target always follows the same other one.
    for (const name of [...names.slice(i % names.length), ...names.slice(0, i % names.length)]) {
      const sched = SCHED ? scheds[name]! : null;
      const t = await traceOne(client, name, targets[name]!, body, modelPort, sched);
      if (i >= WARMUP) results[name]!.push(t);
    }
  }
  const loadAfter = loadavg();
  process.stdout.write(
    `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  print(results, 'sealed', 'hop');
  if (BASE) {
    print(results, 'base', 'hop');
    print(results, 'sealed', 'base');
  }
  printConnections(results);
  if (SCHED) for (const name of names) printSched(name, results[name]!);
  for (const [name, cdp] of Object.entries(sessions ?? {})) {
    const { profile } = await cdp.send<{ profile: Profile }>('Profiler.stop');
    cdp.close();
    printProfileGap(`${name} workerd`, profile, results[name]!, 'send', 'head');
    // The worker's write → the client's answer head (the gateway's answer to the worker's head),
    // then → the first byte (its first frame opened and written).
    printProfileGap(`${name} workerd`, profile, results[name]!, 'written', 'clientHead');
    printProfileGap(`${name} workerd`, profile, results[name]!, 'clientHead', 'firstByte');
  }
  if (nodeSession) {
    const { profile } = (await nodeSession.post('Profiler.stop')) as { profile: Profile };
    nodeSession.disconnect();
    printProfileGap('sealed node', profile, results.sealed!, 'body', 'model');
    printProfileGap('sealed node', profile, results.sealed!, 'modelByte', 'written');
  }
  if (process.env.TRACE_OUT)
    await writeFile(process.env.TRACE_OUT, JSON.stringify({ loadBefore, loadAfter, results }));
  client.close();
} finally {
  stop();
  for (const n of names) await targets[n]!.close();
  model.child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
