/**
 * What the profiler (profile-gateway.ts) and the latency trace (ttfc-trace.ts) send requests to,
 * started the way the macro bench starts them (run-macro.ts): the sealed stack with its gateway in
 * workerd via Miniflare, or the plaintext passthrough Worker straight to the model server (`plain`)
 * or through the Node hop (`hop`, bench/macro/node-hop.ts, in this process like the stack's AI
 * worker). Also the one-request helpers both time the first chunk with.
 */

import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { startStack } from '../../src/dev/stack.js';
import { chatBody } from '../micro/cases.js';
import { createBenchKey } from './bench-keys.js';
import { benchStackOptions, startGatewayWorker, startMiniflareWorker } from './miniflare-worker.js';
import { startNodeHop } from './node-hop.js';

/** What the load goes to: the sealed stack's gateway, or the plaintext passthrough (hop or plain). */
export interface Target {
  url: string;
  apiKey: string;
  path: string;
  /** The Worker's workerd processes. */
  pids: number[];
  /** The Node server behind the Worker in this process: the AI worker (sealed) or the hop; none (plain). */
  nodeUrl: string | null;
  close(): Promise<void>;
}

export interface TargetPorts {
  /** The Worker's port. */
  port: number;
  /** Its inspector (the profiler attaches there); none when absent. */
  inspectorPort?: number;
}

/** The sealed stack (service and AI worker in this process), its gateway bundled and run in workerd. */
export async function startSealedTarget(
  root: string,
  dir: string,
  modelUrl: string,
  ports: TargetPorts,
  key: 'stack' | 'metered' = 'stack',
  /** Another tree's `startStack` (ttfc-trace.ts TRACE_BASE); `root` is then that tree. */
  start: typeof startStack = startStack,
): Promise<Target> {
  let pids: number[] = [];
  const stack = await start({
    ...benchStackOptions(dir, ports.port, modelUrl),
    runGateway: async ({ port, vars, persistTo }) => {
      const worker = await startGatewayWorker(root, join(dir, 'bundle'), {
        port,
        vars,
        persistTo,
        ...(ports.inspectorPort ? { inspectorPort: ports.inspectorPort } : {}),
      });
      pids = worker.pids;
      return worker;
    },
  });
  const apiKey =
    key === 'metered' ? await createBenchKey(join(dir, 'state'), join(dir, 'dev'), 'metered') : stack.apiKey;
  return {
    url: stack.url,
    apiKey,
    path: '/v1/chat/completions',
    pids,
    nodeUrl: stack.workerUrl,
    close: () => stack.close(),
  };
}

/** The plaintext passthrough Worker in workerd, to the model server straight or via the Node hop. */
export async function startPassthroughTarget(
  root: string,
  dir: string,
  modelUrl: string,
  ports: TargetPorts,
  viaHop: boolean,
): Promise<Target> {
  const hop = await startNodeHop(modelUrl);
  const passthrough = await startMiniflareWorker({
    root,
    dir: join(dir, 'passthrough-bundle'),
    config: join(root, 'bench/workerd/passthrough.toml'),
    entry: 'passthrough.js',
    port: ports.port,
    bindings: { UPSTREAM: modelUrl, UPSTREAM_HOP: hop.url },
    ...(ports.inspectorPort ? { inspectorPort: ports.inspectorPort } : {}),
  });
  return {
    url: passthrough.url,
    apiKey: 'unused',
    path: viaHop ? '/hop/v1/chat/completions' : '/v1/chat/completions',
    pids: passthrough.pids,
    nodeUrl: viaHop ? hop.url : null,
    close: async () => {
      await passthrough.close();
      await hop.close();
    },
  };
}

/** ms on the process's monotonic clock (`process.hrtime`): the same in every thread of a process. */
export function hrMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** What one POST saw, in ms from the call; NaN: did not happen. */
export interface PostTimes {
  /** The call, on `hrMs()`'s clock. */
  sentAt: number;
  /** The answer's head. */
  head: number;
  /** The answer's first body byte. */
  firstByte: number;
  /** The end of the first SSE event (its blank line) in the body. */
  firstEvent: number;
  /** The answer's end. */
  end: number;
  /** SSE events (blank lines) in the answer's first body chunk: more than one, and it waited for them. */
  firstChunkEvents: number;
}

/**
 * One POST of `body`; resolves with its times once the response ended. `onPoint` is called as each
 * point is reached (the trace reads the schedulers' counters there).
 */
export function postTimed(
  agent: Agent,
  url: string,
  apiKey: string,
  body: string,
  onPoint?: (point: 'head' | 'firstByte' | 'firstEvent') => void,
): Promise<PostTimes> {
  const sentAt = hrMs();
  return new Promise<PostTimes>((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      },
      (res) => {
        const times = {
          sentAt,
          head: hrMs() - sentAt,
          firstByte: Number.NaN,
          firstEvent: Number.NaN,
          end: Number.NaN,
          firstChunkEvents: 0,
        };
        onPoint?.('head');
        let text = '';
        res.on('data', (chunk: Buffer) => {
          const now = hrMs() - sentAt;
          if (Number.isNaN(times.firstByte)) {
            times.firstByte = now;
            times.firstChunkEvents = chunk.toString('latin1').split('\n\n').length - 1;
            onPoint?.('firstByte');
          }
          if (!Number.isNaN(times.firstEvent)) return;
          text += chunk.toString('latin1');
          if (text.includes('\n\n')) {
            times.firstEvent = now;
            onPoint?.('firstEvent');
          }
        });
        res.on('end', () => {
          times.end = hrMs() - sentAt;
          resolve(times);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One POST of `body`; resolves with the ms from the call to the first body chunk (NaN: none). */
export async function postOnce(agent: Agent, url: string, apiKey: string, body: string): Promise<number> {
  return (await postTimed(agent, url, apiKey, body)).firstByte;
}

/** The benchmark's 4 KiB chat prompt, streamed or not. */
export function benchBody(stream: boolean): string {
  return JSON.stringify(chatBody(4096, stream));
}

/**
 * Time to the first chunk of `count` streamed answers sent one at a time (nothing else in flight),
 * sorted, in ms, as the macro bench's "one at a time" TTFC.
 */
export async function ttfcOneAtATime(target: Target, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = benchBody(true);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    times.push(await postOnce(agent, `${target.url}${target.path}`, target.apiKey, body));
  }
  agent.destroy();
  return times.sort((a, b) => a - b);
}

/** The `q` quantile of sorted values (nearest rank below), as the profiler prints it. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
