/**
 * The in-request cost of one crypto call in workerd (issue #18 target 3): bench/workerd/crypto-slope.ts
 * bundled and served by one workerd (Miniflare), a closed loop of `GET /?op&k` at 1 and 8 in flight,
 * and the workerd process's CPU from /proc (cpu-time.ts) per request for each K. The least-squares
 * slope over K is what one call adds to a request — the figure a CPU profile cannot give on a loaded
 * machine (its sampler is starved and charges the gap to whatever runs when the thread resumes).
 * Each op is measured in ROUNDS rounds, its K values in turn within a round; printed: the median
 * slope and the rounds' range. /proc counts in clock ticks (10 ms), so each point runs SLOPE_MS.
 *
 *   [SLOPE_OPS=none,hkdfKey,…] [SLOPE_KS=0,4,16,32] [SLOPE_MS=2500] [SLOPE_ROUNDS=2] \
 *     [SLOPE_INFLIGHT=1,8] npx tsx bench/macro/crypto-slope.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { bundleForWorkerd } from '../micro/workerd-bundle.js';
import { childWorkerds } from './miniflare-worker.js';
import { cpuPerRequest, get, median, slope } from './slope.js';

const root = join(import.meta.dirname, '../..');
const PORT = 18_898;
const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',');
const OPS = list(
  'SLOPE_OPS',
  'none,promise,timeout0,schedwait,hkdfBits,hkdfKey,importAes,gcmSeal,gcmOpen,sha256,es256,' +
    'nodeSha256,nodeHmac,nobleSha256,nobleHkdf,seqNoVerify,seq',
);
const KS = list('SLOPE_KS', '0,4,16,32').map(Number);
const MS = Number(process.env.SLOPE_MS ?? 2_500);
const ROUNDS = Number(process.env.SLOPE_ROUNDS ?? 2);
const INFLIGHT = list('SLOPE_INFLIGHT', '1,8').map(Number);

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

async function measureOp(pids: number[], op: string, inflight: number): Promise<number> {
  const points: [number, number][] = [];
  for (const k of KS) {
    const send = () => get(PORT, `/?op=${op}&k=${k}`, agent);
    await cpuPerRequest(pids, send, inflight, 300); // warm-up, not counted
    points.push([k, await cpuPerRequest(pids, send, inflight, MS)]);
  }
  return slope(points);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-slope-'));
  const script = await bundleForWorkerd(join(root, 'bench/workerd/crypto-slope.ts'), dir);
  const before = new Set(childWorkerds());
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...script,
      host: '127.0.0.1',
      port: PORT,
    }),
  );
  try {
    await mf.ready;
    const pids = childWorkerds().filter((p) => !before.has(p));
    for (const inflight of INFLIGHT) {
      for (const op of OPS) {
        const slopes: number[] = [];
        for (let r = 0; r < ROUNDS; r++) slopes.push(await measureOp(pids, op, inflight));
        const range = `${Math.min(...slopes).toFixed(1)}–${Math.max(...slopes).toFixed(1)}`;
        console.log(
          `${inflight} in flight  ${op.padEnd(12)} ${median(slopes).toFixed(1)} µs/call  (${range})`,
        );
      }
    }
  } finally {
    await mf.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
