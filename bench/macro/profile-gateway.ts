/**
 * A CPU profile of the gateway Worker under load (issue #18 "profile first"): the stack as the macro
 * benchmark runs it (gateway in workerd via Miniflare, its inspector port open), 8 sealed requests
 * in flight for `PROFILE_MS`, V8's sampling profiler over the DevTools protocol of the Worker's own
 * workerd; prints the functions with the most self time and writes the .cpuprofile. With
 * `PROFILE_NODE=1`, this process instead (where the AI worker and attestation service run, as in the
 * benchmark; the load generator's own functions are in it too, under node:http and this file).
 * `PROFILE_TARGET=hop` profiles the benchmark's baseline instead of the sealed path: the plaintext
 * passthrough Worker (bench/workerd/passthrough.ts) forwarding under `/hop/…` through the Node hop
 * (bench/macro/node-hop.ts, in this process) to the same model server; `PROFILE_TARGET=plain` the
 * passthrough straight to the model server. Same load, same printout, so the two can be compared
 * function by function. `PROFILE_KEY=metered` sends the sealed load with a key that has a tpm and a
 * budget (made with `sealgate apikey create --local`, as the macro bench's metered phase does).
 * `PROFILE_TTFC=n` (streams) first times the first chunk of n streams sent one at a time (p50, p90).
 *
 * Beside the sampler's figures it prints the profiled workerd's CPU time per request from /proc
 * (cpu-time.ts, as the macro bench's `cpu.worker` counts it; here the sampler's own cost included),
 * by thread, and the sampler's mean interval: its deltas are wall-clock, so on a loaded machine
 * (an interval far over the 0.1 ms asked for) "busy" overstates CPU — 4.8 against 2.4 ms per
 * sealed request at load 8 — and only the /proc figure compares between runs. Not with
 * `PROFILE_NODE=1` (that CPU is this process's).
 *
 * `PROFILE_INFLIGHT=1` profiles one request at a time instead of 8 in flight.
 *
 *   [PROFILE_TARGET=sealed|hop|plain] [PROFILE_NODE=1] [PROFILE_MS=8000] [PROFILE_TTFC=200] \
 *     [PROFILE_INFLIGHT=8] \
 *     npx tsx bench/macro/profile-gateway.ts [json|stream] [out.cpuprofile]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspector, type Profile } from './cdp.js';
import { threadsCpuMs } from './cpu-time.js';
import { startModelServerProcess } from './model-process.js';
import {
  benchBody,
  postOnce,
  quantile,
  startPassthroughTarget,
  startSealedTarget,
  ttfcOneAtATime,
} from './stack-targets.js';

const root = join(import.meta.dirname, '../..');
const stream = process.argv[2] === 'stream';
const out = process.argv[3] ?? join(tmpdir(), `gateway-${stream ? 'stream' : 'json'}.cpuprofile`);
const PROFILE_MS = Number(process.env.PROFILE_MS ?? 8_000);
const PORT = 18887;
/** Requests in flight during the profile (the macro bench's 8; 1 to see one request's path alone). */
const IN_FLIGHT = Number(process.env.PROFILE_INFLIGHT ?? 8);
const TARGET = process.env.PROFILE_TARGET ?? 'sealed';
if (!['sealed', 'hop', 'plain'].includes(TARGET))
  throw new Error(`PROFILE_TARGET: sealed, hop or plain, not ${TARGET}`);

function loadFor(url: string, apiKey: string, ms: number, path = '/v1/chat/completions'): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const body = benchBody(stream);
  const stopAt = performance.now() + ms;
  let n = 0;
  const loop = async () => {
    while (performance.now() < stopAt) {
      await postOnce(agent, `${url}${path}`, apiKey, body);
      n++;
    }
  };
  return Promise.all(Array.from({ length: IN_FLIGHT }, loop)).then(() => {
    agent.destroy();
    return n;
  });
}

/** Per function: wall-clock self time (the sampler's deltas, ms) and the number of samples. */
function selfTimes(p: Profile): [string, number, number][] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, [number, number]>();
  p.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    const row = self.get(key) ?? [0, 0];
    self.set(key, [row[0] + (p.timeDeltas[i] ?? 0) / 1000, row[1] + 1]);
  });
  return [...self].map(([k, [ms, count]]): [string, number, number] => [k, ms, count]);
}

/** The Worker's CPU ms while profiled (/proc), by thread name, largest first. */
function cpuByThread(before: Map<string, number>, after: Map<string, number>): [string, number][] {
  return [...after]
    .map(([name, ms]): [string, number] => [name, ms - (before.get(name) ?? 0)])
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1]);
}

/**
 * The rows, most samples first. With the Worker's /proc CPU, each function's share of the busy
 * samples is also given as CPU µs per request: a descheduled thread's whole gap lands on the one
 * sample taken when it runs again (its wall-clock delta), so on a loaded machine counts, not
 * deltas, say where the CPU went (the isolate's thread only: V8's background threads are not sampled).
 */
function printRows(rows: [string, number, number][], n: number, isolateCpuMs: number | null): void {
  const busy = rows.filter(([k]) => !k.startsWith('(idle)')).reduce((a, [, , c]) => a + c, 0);
  for (const [k, ms, count] of [...rows].sort((a, b) => b[2] - a[2]).slice(0, 40)) {
    const cpu =
      isolateCpuMs === null || k.startsWith('(idle)')
        ? ''
        : `  ${(((count / busy) * isolateCpuMs * 1000) / n).toFixed(1).padStart(6)} µs CPU`;
    process.stdout.write(`${(ms / n).toFixed(4)} ms/req wall${cpu}  ${k}\n`);
  }
}

const dir = await mkdtemp(join(tmpdir(), 'sealgate-profile-'));
const model = await startModelServerProcess(root);

const ports = { port: PORT, inspectorPort: PORT + 1 };
const target =
  TARGET === 'sealed'
    ? await startSealedTarget(
        root,
        dir,
        model.url,
        ports,
        process.env.PROFILE_KEY === 'metered' ? 'metered' : 'stack',
      )
    : await startPassthroughTarget(root, dir, model.url, ports, TARGET === 'hop');
try {
  await loadFor(target.url, target.apiKey, 2_000, target.path); // warm-up
  const ttfcCount = Number(process.env.PROFILE_TTFC ?? 0);
  if (stream && ttfcCount > 0) {
    const t = await ttfcOneAtATime(target, ttfcCount);
    const at = (q: number) => quantile(t, q).toFixed(3);
    process.stdout.write(`TTFC one at a time (${t.length}): p50 ${at(0.5)} ms, p90 ${at(0.9)} ms\n`);
  }
  const cdp =
    process.env.PROFILE_NODE === '1'
      ? await (async () => {
          const session = new Session();
          session.connect();
          return {
            send: <T>(method: string, params: Record<string, unknown> = {}) =>
              session.post(method, params) as Promise<T>,
            close: () => session.disconnect(),
          };
        })()
      : await inspector(PORT + 1);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  const cpuBefore = threadsCpuMs(target.pids);
  await cdp.send('Profiler.start');
  const n = await loadFor(target.url, target.apiKey, PROFILE_MS, target.path);
  const { profile } = await cdp.send<{ profile: Profile }>('Profiler.stop');
  const cpuAfter = threadsCpuMs(target.pids);
  cdp.close();
  await writeFile(out, JSON.stringify(profile));
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  const rows = selfTimes(profile);
  const idle = rows.filter(([k]) => k.startsWith('(idle)')).reduce((a, [, ms]) => a + ms, 0);
  process.stdout.write(
    `${TARGET}: ${n} requests; sampled ${total.toFixed(0)} ms, busy ${(total - idle).toFixed(0)} ms = ${((total - idle) / n).toFixed(3)} ms/request\n`,
  );
  const interval = total / Math.max(1, profile.samples.length);
  process.stdout.write(
    `sampler: ${profile.samples.length} samples, mean interval ${interval.toFixed(3)} ms\n`,
  );
  let isolateCpuMs: number | null = null;
  if (process.env.PROFILE_NODE !== '1') {
    const threads = cpuByThread(cpuBefore, cpuAfter);
    const all = threads.reduce((a, [, ms]) => a + ms, 0);
    const each = threads.map(([name, ms]) => `${name} ${(ms / n).toFixed(3)}`).join(', ');
    process.stdout.write(`workerd CPU (/proc): ${(all / n).toFixed(3)} ms/request (${each})\n`);
    isolateCpuMs = threads.find(([name]) => name === 'workerd')?.[1] ?? null;
  }
  printRows(rows, n, isolateCpuMs);
  process.stdout.write(`profile: ${out}\n`);
} finally {
  await target.close();
  model.child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
