/**
 * The in-request cost of one network read of a streamed body in workerd (issue #18, the gateway's
 * streams): bench/workerd/stream-slope.ts bundled and served by one workerd (Miniflare), an upstream
 * here that writes each body as K chunks an event loop turn apart, a closed loop of `GET /?op&k`,
 * and the workerd process's CPU from /proc per request for each K (slope.ts). The slope over K is
 * what one chunk costs: natively pumped (`pass`, the passthrough's way), read in JavaScript
 * (`drain`), or read and written on (`relay`, the sealed relay's way per network read). `drain`
 * reports its reads per request, so the K chunks are seen to be K reads.
 *
 *   [SLOPE_OPS=pass,drain,relay,relayCopy] [SLOPE_KS=1,8,24,48] [SLOPE_MS=2000] [SLOPE_ROUNDS=3] \
 *     [SLOPE_INFLIGHT=8] npx tsx bench/macro/stream-slope.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { bundleForWorkerd } from '../micro/workerd-bundle.js';
import { childWorkerds } from './miniflare-worker.js';
import { cpuPerRequest, get, median, slope } from './slope.js';

const root = join(import.meta.dirname, '../..');
const PORT = 18_898;
const UPSTREAM_PORT = 18_899; // bench/workerd/stream-slope.ts UPSTREAM
const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',');
const OPS = list('SLOPE_OPS', 'pass,drain,relay,relayCopy');
const KS = list('SLOPE_KS', '1,8,24,48').map(Number);
const MS = Number(process.env.SLOPE_MS ?? 2_000);
const ROUNDS = Number(process.env.SLOPE_ROUNDS ?? 3);
const INFLIGHT = list('SLOPE_INFLIGHT', '8').map(Number);
/** One chat chunk event, about the size of a model server's. */
const CHUNK = Buffer.from(
  `data: ${JSON.stringify({ choices: [{ delta: { content: 'x'.repeat(200) } }] })}\n\n`,
);

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** Answers `/?k=K` with K chunks, each written one event loop turn after the last. */
function startUpstream(): Promise<Server> {
  const server = createServer(async (req, res) => {
    const k = Number(new URL(req.url ?? '/', 'http://upstream').searchParams.get('k'));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < k; i++) {
      res.write(CHUNK);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    res.end();
  });
  return new Promise((resolve) => server.listen(UPSTREAM_PORT, '127.0.0.1', () => resolve(server)));
}

/** The op's slope over KS (µs per chunk), and for `drain` the reads per request at each K. */
async function measureOp(pids: number[], op: string, inflight: number) {
  const points: [number, number][] = [];
  const reads: string[] = [];
  for (const k of KS) {
    let requests = 0;
    let seen = 0;
    const send = async () => {
      const headers = await get(PORT, `/?op=${op}&k=${k}`, agent);
      seen += Number(headers['x-reads'] ?? 0); // after the await: `seen +=` reads seen first
      requests++;
    };
    await cpuPerRequest(pids, send, inflight, 300); // warm-up, not counted
    requests = 0;
    seen = 0;
    points.push([k, await cpuPerRequest(pids, send, inflight, MS)]);
    if (op === 'drain') reads.push(`${k}→${(seen / requests).toFixed(1)}`);
  }
  return { slope: slope(points), reads };
}

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-stream-slope-'));
  const script = await bundleForWorkerd(join(root, 'bench/workerd/stream-slope.ts'), dir);
  const before = new Set(childWorkerds());
  const mf = new Miniflare(convertV4MiniflareOptions({ ...script, host: '127.0.0.1', port: PORT }));
  try {
    await mf.ready;
    const pids = childWorkerds().filter((p) => !before.has(p));
    for (const inflight of INFLIGHT) {
      for (const op of OPS) {
        const runs = [];
        for (let r = 0; r < ROUNDS; r++) runs.push(await measureOp(pids, op, inflight));
        const slopes = runs.map((m) => m.slope);
        const range = `${Math.min(...slopes).toFixed(1)}–${Math.max(...slopes).toFixed(1)}`;
        const reads = op === 'drain' ? `  reads per request (K→reads): ${runs[0]?.reads.join(' ')}` : '';
        console.log(
          `${inflight} in flight  ${op.padEnd(10)} ${median(slopes).toFixed(1)} µs/chunk  (${range})${reads}`,
        );
      }
    }
  } finally {
    await mf.dispose();
    await rm(dir, { recursive: true, force: true });
    upstream.close();
    agent.destroy();
  }
}

await main();
