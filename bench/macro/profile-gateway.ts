/**
 * A CPU profile of the gateway Worker under load (issue #18 "profile first"): the stack as the macro
 * benchmark runs it (gateway in workerd via Miniflare, its inspector port open), 8 sealed requests
 * in flight for `PROFILE_MS`, V8's sampling profiler over the DevTools protocol of the Worker's own
 * workerd; prints the functions with the most self time and writes the .cpuprofile. With
 * `PROFILE_NODE=1`, this process instead (where the AI worker and attestation service run, as in the
 * benchmark; the load generator's own functions are in it too, under node:http and this file).
 *
 *   npx tsx bench/macro/profile-gateway.ts [json|stream] [out.cpuprofile]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startStack } from '../../src/dev/stack.js';
import { chatBody } from '../micro/cases.js';
import { startMiniflareWorker } from './miniflare-worker.js';
import { startModelServerProcess } from './model-process.js';

const root = join(import.meta.dirname, '../..');
const stream = process.argv[2] === 'stream';
const out = process.argv[3] ?? join(tmpdir(), `gateway-${stream ? 'stream' : 'json'}.cpuprofile`);
const PROFILE_MS = Number(process.env.PROFILE_MS ?? 8_000);
const PORT = 18887;

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

async function inspector(port: number) {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.once('open', r));
  let id = 0;
  const pending = new Map<number, (v: unknown) => void>();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
  });
  return {
    send: <T>(method: string, params: Record<string, unknown> = {}) =>
      new Promise<T>((resolve) => {
        const n = ++id;
        pending.set(n, resolve as (v: unknown) => void);
        ws.send(JSON.stringify({ id: n, method, params }));
      }),
    close: () => ws.close(),
  };
}

function loadFor(url: string, apiKey: string, ms: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const body = JSON.stringify(chatBody(4096, stream));
  const stopAt = performance.now() + ms;
  let n = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        `${url}/v1/chat/completions`,
        {
          agent,
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            n++;
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const loop = async () => {
    while (performance.now() < stopAt) await one();
  };
  return Promise.all(Array.from({ length: 8 }, loop)).then(() => {
    agent.destroy();
    return n;
  });
}

function selfTimes(p: Profile): [string, number][] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self].sort((a, b) => b[1] - a[1]);
}

const dir = await mkdtemp(join(tmpdir(), 'sealgate-profile-'));
const model = await startModelServerProcess(root);
const stack = await startStack({
  port: PORT,
  servicePort: 0,
  workerPort: 0,
  devDir: join(dir, 'dev'),
  persistTo: join(dir, 'state'),
  modelUrl: model.url,
  verbose: false,
  runGateway: ({ port, vars, persistTo }) =>
    startMiniflareWorker({
      root,
      dir: join(dir, 'bundle'),
      entry: 'worker.js',
      port,
      bindings: vars,
      kv: ['SEALGATE_KV'],
      durableObjects: {
        KEY_ROTATION: 'KeyRotation',
        ATTESTATION_RATE_LIMIT: 'AttestationRateLimit',
        MANIFEST_LOG: 'ManifestLog',
      },
      ...(persistTo ? { persistTo } : {}),
      inspectorPort: PORT + 1,
    }),
});
try {
  await loadFor(stack.url, stack.apiKey, 2_000); // warm-up
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
  await cdp.send('Profiler.start');
  const n = await loadFor(stack.url, stack.apiKey, PROFILE_MS);
  const { profile } = await cdp.send<{ profile: Profile }>('Profiler.stop');
  cdp.close();
  await writeFile(out, JSON.stringify(profile));
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  const rows = selfTimes(profile);
  const idle = rows.filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  process.stdout.write(
    `${n} requests; sampled ${total.toFixed(0)} ms, busy ${(total - idle).toFixed(0)} ms = ${((total - idle) / n).toFixed(3)} ms/request\n`,
  );
  for (const [k, v] of rows.slice(0, 40)) process.stdout.write(`${(v / n).toFixed(4)} ms/req  ${k}\n`);
  process.stdout.write(`profile: ${out}\n`);
} finally {
  await stack.close();
  model.child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
