/**
 * The slope method of bench/macro/crypto-slope.ts and stream-slope.ts: a closed loop of requests to
 * one workerd, its process's CPU from /proc (cpu-time.ts) per request for several K, and the
 * least-squares slope over K — what one more unit of K adds to a request, which a CPU profile of a
 * loaded machine cannot give (its sampler is starved and charges the gap to whatever runs when the
 * thread resumes).
 */
import { type Agent, request } from 'node:http';
import { processesCpuMs, processesCpuMsFine } from './cpu-time.js';

/** GET `path` on 127.0.0.1:`port`, body drained; resolves with the response headers on a 200. */
export function get(port: number, path: string, agent: Agent): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve(res.headers) : reject(new Error(`${path}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** POST `body` with `headers` to 127.0.0.1:`port`; resolves with the answer's text on a 200. */
export function post(
  port: number,
  path: string,
  agent: Agent,
  headers: Record<string, string>,
  body: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(text);
        else reject(new Error(`${headers.host ?? ''}${path}: ${res.statusCode} ${text.slice(0, 200)}`));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * CPU µs per request of the processes `pids` while `send` runs in a closed loop for `ms` with
 * `inflight` requests at a time.
 */
export async function cpuPerRequest(
  pids: number[],
  send: () => Promise<unknown>,
  inflight: number,
  ms: number,
  /** `processesCpuMsFine` (ns resolution) instead of /proc's 10 ms ticks. */
  fine = false,
): Promise<number> {
  const cpuMs = fine ? processesCpuMsFine : processesCpuMs;
  const end = Date.now() + ms;
  let n = 0;
  const before = cpuMs(pids);
  const loop = async () => {
    while (Date.now() < end) {
      await send();
      n++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  const after = cpuMs(pids);
  if (before === null || after === null) throw new Error('no /proc CPU time on this system');
  return ((after - before) * 1000) / n;
}

/** The least-squares slope of `points` ([x, y] pairs). */
export function slope(points: readonly [number, number][]): number {
  const mean = (f: (p: [number, number]) => number) => points.reduce((a, p) => a + f(p), 0) / points.length;
  const mx = mean((p) => p[0]);
  const my = mean((p) => p[1]);
  return mean((p) => (p[0] - mx) * (p[1] - my)) / mean((p) => (p[0] - mx) ** 2);
}

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
