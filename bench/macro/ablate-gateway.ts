/**
 * Where a sealed JSON request's gateway CPU goes (issue #18 target 3), by ablation: the real
 * gateway (src/gateway/worker.ts) bundled with esbuild several times — as it is (`A`), and once per
 * ablation with named modules swapped for cheaper stand-ins (bench/macro/ablate/plan.ts says what
 * each removes; the stand-ins live beside it, production code has no bench flag) — all served as
 * Workers of ONE workerd (Miniflare; each Worker its own isolate, routed by Host through Miniflare's
 * entry router as the macro bench's gateway is), beside the plaintext passthrough Worker
 * (bench/workerd/passthrough.ts) to the same model server. The stack is the macro bench's: the
 * attestation service and AI worker in this process, the model server as its own process, real KV
 * and Durable Objects (the ablated Workers use `A`'s Durable Objects and the same KV namespace).
 *
 * The ablations (plan.ts; module swapped → what goes):
 *   receipt-sig  receipts/receipt.ts            the receipt's ES256 verify (thumbprint still checked)
 *   receipt      sealing/receipt-check.ts       the whole receipt: certificate lookup, answer hash,
 *                                               JWS parse and verify, kept receipt
 *   apikey       kv/api-keys.ts                 the API key's SHA-256 and the dev key's comparison
 *   read         http/read-limited.ts           the request body's JS read (runtime reads it whole)
 *   shape        http/json-depth.ts             the walk of the parsed request body
 *   body         routes/sealed/read-json-body.ts  the whole body check (`request.json()` instead)
 *   open         sealing/upstream.ts            all after the answer arrived (read, receipt, open,
 *                                               JSON out): the sealed body handed on natively
 *   answer-read  sealing/upstream.ts            as `open`, but the answer read whole and sent as bytes
 *   decrypt      envelope/response.ts           the opening (HKDF, AES-GCM, parse) and its stringify
 *   signal       sealing/upstream.ts            the client's AbortSignal on the subrequest
 *   hono         app.ts                         Hono and every middleware: one plain function
 *   gateway-passthrough  app.ts                 all but the isolate: app built, passthrough served
 *   seal×8, open×8, receipt×8, apikey×8         (add) the step 7 more times: Δ / 7 is one in place
 *   floor        hono + apikey + body + open    what is left: config, key, sealing, the one fetch
 * Of a stream (`ABLATE_STREAM=1`):
 *   stream-relay sealing/stream-answer.ts       the whole relay: the sealed stream pumped natively
 *                                               (no read, open, event check, hash, receipt, write)
 *   chat-check   api/stream-end.ts              the JSON check of each verified chat event
 *   event-utf8   envelope/stream-events.ts      the per-byte UTF-8 / CR check of each event
 *   chat-check×8, read-alloc×8                  (add) 7 more event checks; 7 fresh 64 KiB buffers
 *                                               per body read (http/chunk-reader.ts)
 *
 * The load is the macro bench's sealed JSON request (4 KiB chat prompt) at 8 in flight, a closed
 * loop of `ABLATE_MS` per variant; the figure is the workerd process's CPU per request from /proc
 * (slope.ts `cpuPerRequest`, the scheduler's ns count: short windows need more than 10 ms ticks).
 * Variants are measured in interleaved rounds (A, B1, B2, …, A, B1, …; each round starts one
 * variant later) so host noise hits all alike; a variant's delta is the median over rounds of
 * (variant − A) in the same round: on a loaded host single windows swing by ±0.5 ms, so many
 * short rounds, not a few long ones. A variant that answers anything but 200 stops the run (a broken ablation measures
 * nothing). The load average is printed each round; beside each figure, the isolate thread's part
 * of it (cpu-time.ts `threadsCpuMs`: the rest is V8's background GC and compiler threads and
 * workerd's others). `passthrough-hop` is the passthrough through the Node hop (node-hop.ts) in
 * this process, where the AI worker also runs: whether a slower upstream alone costs the Worker CPU.
 *
 * `ABLATE_BASE=<dir>`: also bundle `<dir>/src/gateway/worker.ts` (another checkout, e.g. the branch
 * point, with node_modules) as variant `base`, for an interleaved A/B of a change.
 * `ABLATE_WRANGLER=1`: also `A` bundled by wrangler (as the macro bench does), to check that the
 * esbuild bundle costs the same.
 *
 *   [ABLATE_ONLY=receipt,open,…] [ABLATE_MS=1500] [ABLATE_ROUNDS=8] [ABLATE_BASE=/tmp/gwjson-base] \
 *     [ABLATE_STREAM=1] \
 *     [ABLATE_WRANGLER=1] npx tsx bench/macro/ablate-gateway.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { startStack } from '../../src/dev/stack.js';
import { chatBody } from '../micro/cases.js';
import { bundleForWorkerd } from '../micro/workerd-bundle.js';
import { ABLATIONS, type Ablation, swapPlugin } from './ablate/plan.js';
import { REPEAT } from './ablate/repeat.js';
import { threadsCpuMs } from './cpu-time.js';
import {
  benchStackOptions,
  bundleWithWrangler,
  childWorkerds,
  gatewayBindingsFromWranglerToml,
} from './miniflare-worker.js';
import { startModelServerProcess } from './model-process.js';
import { startNodeHop } from './node-hop.js';
import { cpuPerRequest, median, post } from './slope.js';

const root = join(import.meta.dirname, '../..');
const PORT = 18_877;
const MS = Number(process.env.ABLATE_MS ?? 1_500);
const ROUNDS = Number(process.env.ABLATE_ROUNDS ?? 8);
const ONLY = process.env.ABLATE_ONLY?.split(',');
/** `ABLATE_STREAM=1`: the same request streamed (the stream relay instead of the JSON answer). */
const BODY = JSON.stringify(chatBody(4096, process.env.ABLATE_STREAM === '1'));

interface Variant {
  name: string;
  removes: string;
  /** Miniflare's script options (bundleForWorkerd's shape). */
  script: Record<string, unknown>;
  /** false: the passthrough, not a gateway. */
  gateway: boolean;
  /** The request path (the passthrough's `/hop/…` goes through the Node hop). */
  path: string;
}

const CHAT = '/v1/chat/completions';

const hostOf = (i: number) => `v${i}.ablate`;

async function gatewayVariant(dir: string, entryRoot: string, name: string, removes: string, a?: Ablation) {
  const script = await bundleForWorkerd(
    join(entryRoot, 'src/gateway/worker.ts'),
    join(dir, name.replace(/\W/g, '_')),
    a ? [swapPlugin(a)] : [],
  );
  return { name, removes, script, gateway: true, path: CHAT };
}

async function wranglerVariant(dir: string): Promise<Variant> {
  const outdir = join(dir, 'wrangler');
  await bundleWithWrangler(root, outdir);
  const script = {
    modules: true,
    scriptPath: join(outdir, 'worker.js'),
    modulesRoot: outdir,
    compatibilityDate: '2025-06-01',
    compatibilityFlags: ['nodejs_compat'],
  };
  return { name: 'wrangler', removes: 'nothing: A bundled by wrangler', script, gateway: true, path: CHAT };
}

async function variants(dir: string): Promise<Variant[]> {
  const out: Variant[] = [await gatewayVariant(dir, root, 'A', 'nothing (the gateway as it is)')];
  if (process.env.ABLATE_BASE) {
    out.push(
      await gatewayVariant(dir, process.env.ABLATE_BASE, 'base', `the gateway of ${process.env.ABLATE_BASE}`),
    );
  }
  if (process.env.ABLATE_WRANGLER === '1') out.push(await wranglerVariant(dir));
  for (const a of ABLATIONS) {
    if (!ONLY || ONLY.includes(a.name)) out.push(await gatewayVariant(dir, root, a.name, a.removes, a));
  }
  const passthrough = await bundleForWorkerd(join(root, 'bench/workerd/passthrough.ts'), join(dir, 'pt'));
  const plain = { script: passthrough, gateway: false };
  out.push({ name: 'passthrough', removes: 'the plaintext passthrough Worker', ...plain, path: CHAT });
  // The same Worker through a plaintext Node hop in this process, as the AI worker is: does a
  // slower upstream alone cost the Worker CPU?
  const removes = 'the passthrough through the Node hop (node-hop.ts, in this process)';
  out.push({ name: 'passthrough-hop', removes, ...plain, path: `/hop${CHAT}` });
  return out;
}

/** One workerd serving every variant, each under its own Host; the first also answers the stack. */
function miniflareOptions(
  all: Variant[],
  vars: Record<string, string>,
  upstreams: { UPSTREAM: string; UPSTREAM_HOP: string },
  persistTo: string,
) {
  const { durableObjects, ratelimits, kv } = gatewayBindingsFromWranglerToml(root);
  const shared = Object.fromEntries(
    Object.entries(durableObjects).map(([binding, o]) => [binding, { ...o, scriptName: 'v0' }]),
  );
  const workers = all.map((v, i) => ({
    name: `v${i}`,
    ...v.script,
    routes: [`${hostOf(i)}/*`],
    ...(v.gateway
      ? {
          bindings: { ...vars, ABLATE_UPSTREAM: upstreams.UPSTREAM },
          kvNamespaces: kv,
          ratelimits,
          durableObjects: i === 0 ? durableObjects : shared,
        }
      : { bindings: upstreams }),
  }));
  return convertV4MiniflareOptions({
    host: '127.0.0.1',
    port: PORT,
    resourcePersistencePath: join(persistTo, 'v3'),
    workers,
  } as never);
}

/** The q-quantile of `xs` (nearest rank). */
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;

function report(all: Variant[], cpu: number[][], threads: Map<string, number>[]): void {
  const base = cpu[0]!;
  const f = (x: number) => x.toFixed(0).padStart(5);
  console.log(
    '\nworkerd CPU µs per request: median of rounds (quartiles); Δ vs A: same-round deltas, likewise',
  );
  all.forEach((v, i) => {
    const xs = cpu[i]!;
    const deltas = xs.map((x, r) => x - base[r]!);
    const q = (ys: number[]) =>
      `${f(median(ys))} (${quantile(ys, 0.25).toFixed(0)}…${quantile(ys, 0.75).toFixed(0)})`;
    const total = [...threads[i]!.values()].reduce((a, b) => a + b, 0);
    const isolate = ((threads[i]!.get('workerd') ?? 0) / total) * median(xs);
    const per = v.name.endsWith(`×${REPEAT}`)
      ? ` = ${(median(deltas) / (REPEAT - 1)).toFixed(0)} per step`
      : '';
    const head = `${v.name.padEnd(12)} ${q(xs)}${i === 0 ? '' : `  Δ ${q(deltas)}${per}`}`;
    console.log(`${head}  isolate thread ~${isolate.toFixed(0)}  — ${v.removes}`);
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-ablate-'));
  const model = await startModelServerProcess(root);
  const hop = await startNodeHop(model.url);
  const all = await variants(dir);
  let mf: Miniflare | undefined;
  let pids: number[] = [];
  const stack = await startStack({
    ...benchStackOptions(dir, PORT, model.url),
    runGateway: async ({ vars }) => {
      const before = new Set(childWorkerds());
      const upstreams = { UPSTREAM: model.url, UPSTREAM_HOP: hop.url };
      mf = new Miniflare(miniflareOptions(all, vars, upstreams, join(dir, 'state')));
      await mf.ready;
      pids = childWorkerds().filter((p) => !before.has(p));
      let closed = false;
      return {
        exited: () => closed,
        close: async () => {
          closed = true;
          await mf?.dispose();
        },
      };
    },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const headers = (i: number) => ({
    host: hostOf(i),
    authorization: `Bearer ${stack.apiKey}`,
    'content-type': 'application/json',
  });
  const send = (i: number) => () => post(PORT, all[i]!.path, agent, headers(i), BODY);
  try {
    for (const [i, v] of all.entries()) {
      const text = await send(i)();
      console.log(`${v.name}: ${text.slice(0, 72)}…`);
      await cpuPerRequest(pids, send(i), 8, 1_500); // warm-up
    }
    const cpu: number[][] = all.map(() => []);
    /** CPU ms by thread name (cpu-time.ts: "workerd" is the isolate's), summed over the rounds. */
    const threads: Map<string, number>[] = all.map(() => new Map());
    for (let r = 0; r < ROUNDS; r++) {
      console.log(
        `round ${r + 1}: load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
      );
      // Each round starts one variant later, so no variant always follows the same one.
      for (const k of all.keys()) {
        const i = (k + r) % all.length;
        const before = threadsCpuMs(pids);
        cpu[i]!.push(await cpuPerRequest(pids, send(i), 8, MS, true));
        for (const [name, ms] of threadsCpuMs(pids)) {
          threads[i]!.set(name, (threads[i]!.get(name) ?? 0) + ms - (before.get(name) ?? 0));
        }
      }
    }
    console.log(
      `end: load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    report(all, cpu, threads);
  } finally {
    agent.destroy();
    await stack.close();
    await hop.close();
    model.child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
