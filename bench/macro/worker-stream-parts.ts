/**
 * The AI worker's stream path taken apart, in process (issue #18 target 3, worker side): the
 * thread CPU and the heap allocated per call of each part, for the bench's 56-event chat answer
 * (the built-in model's answer to `chatBody(4096)`, one network read as the model server sends it),
 * beside the JSON answer's counterpart. No sockets, no other thread: what is left of the worker's
 * CPU per stream over these parts is node:http and the event loop (worker-hot.ts measures the whole).
 *
 *   npx tsx bench/macro/worker-stream-parts.ts [calls per round, default 2000] [rounds, default 3]
 *
 * Parts (each on a fresh request context):
 *   model   the upstream model over an in-memory SSE body: body → SSE parse → per-event checks
 *           (src/model/upstream.ts), batches read to the end
 *   sse     the SSE parse of the read alone (src/model/sse.ts)
 *   check   the per-event JSON check alone (stream-end.ts isChatChunk: the rule upstream.ts applies)
 *   sealer  the stream sealer's three records (first event, the rest, end) and the stream hash
 *   body    the same through sealedStreamBody (the pump, its WHATWG stream, the frame timer)
 *   json    the JSON answer's seal (sealResponse + JSON text): what a JSON answer pays instead
 * CPU is the median of the rounds (`process.threadCpuUsage`); allocation is V8's sampling heap
 * profiler with collected objects included (young and old), bytes per call.
 */
import { Session } from 'node:inspector/promises';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { createSaltPool } from '../../src/ai-worker/node-salt-pool.js';
import { nodeSha256 } from '../../src/ai-worker/node-sha256.js';
import { sealedStreamBody } from '../../src/ai-worker/sealed-stream-body.js';
import { isChatChunk } from '../../src/api/stream-end.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { sealRequest } from '../../src/envelope/request.js';
import { sealResponse } from '../../src/envelope/response.js';
import { createStreamSealer } from '../../src/envelope/stream.js';
import { createKek } from '../../src/keys/kek.js';
import { createBuiltinModel } from '../../src/model/builtin.js';
import { SseParser } from '../../src/model/sse.js';
import { createUpstreamModel, type ModelFetch } from '../../src/model/upstream.js';
import { createStreamHash } from '../../src/receipts/receipt.js';
import { chatBody } from '../micro/cases.js';

const calls = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const ROUTE = '/v1/chat/completions';
const now = Math.floor(Date.now() / 1000);
const kek = await createKek({ notBefore: now - 60, notAfter: now + 3600 });
const builtin = createBuiltinModel({ models: ['sealgate-builtin'] });

const streamed = await builtin.call(ROUTE, { body: chatBody(4096, true) });
if (streamed.kind !== 'stream') throw new Error('expected a stream');
const events: string[] = [];
for await (const e of streamed.events) events.push(e);
const sseText = events.map((e) => `data: ${e}\n\n`).join('');
const sseBytes = new TextEncoder().encode(sseText);
const answered = await builtin.call(ROUTE, { body: chatBody(4096, false) });
if (answered.kind !== 'json') throw new Error('expected a JSON answer');
const jsonAnswer = answered.body;

/** The model server's answer as one network read, as node-http-fetch.ts hands it on. */
const sseFetch: ModelFetch = async () => ({
  ok: true,
  status: 200,
  headers: { get: (name) => (name === 'content-type' ? 'text/event-stream' : null) },
  get body() {
    return new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(sseBytes.slice());
        c.close();
      },
    });
  },
});
const model = createUpstreamModel({ baseUrl: 'http://127.0.0.1:1', fetch: sseFetch });
const salt = createSaltPool();

async function sealRecords(context: RequestContext): Promise<void> {
  const sealer = createStreamSealer(context, { random: salt });
  sealer.prepare();
  const hash = createStreamHash(nodeSha256);
  hash.update(await sealer.seal(events.slice(0, 1)));
  hash.update(await sealer.seal(events.slice(1)));
  hash.update(await sealer.end());
  hash.digest();
}

async function* burst(): AsyncGenerator<readonly string[]> {
  yield events.slice(0, 1);
  yield events.slice(1);
}

const parts: Record<string, (context: RequestContext) => Promise<void> | void> = {
  async model() {
    const answer = await model.call(ROUTE, { body: { model: 'sealgate-builtin', stream: true } });
    if (answer.kind !== 'stream' || !answer.batches) throw new Error('expected batches');
    let n = 0;
    for await (const batch of answer.batches) n += batch.length;
    if (n !== events.length) throw new Error(`model part: ${n} events`);
  },
  sse() {
    if (new SseParser().push(sseText).length !== events.length) throw new Error('sse part');
  },
  check() {
    for (let i = 0; i < events.length - 1; i++) if (!isChatChunk(events[i]!)) throw new Error('check part');
  },
  sealer: sealRecords,
  async body(context) {
    const hash = createStreamHash(nodeSha256);
    const body = sealedStreamBody({
      events: burst(),
      sealer: createStreamSealer(context, { random: salt }),
      onRecord: (record) => hash.update(record),
      onEnd() {},
      onFailure(e) {
        throw e;
      },
      onCancel() {},
    });
    const reader = body.getReader();
    while (!(await reader.read()).done) {}
    hash.digest();
  },
  async json(context) {
    JSON.stringify(await sealResponse(context, jsonAnswer, { random: salt }));
  },
};

let rid = 0;
async function contexts(n: number): Promise<RequestContext[]> {
  const out: RequestContext[] = [];
  for (let i = 0; i < n; i++) {
    const { context } = await sealRequest({
      kek,
      route: ROUTE,
      requestId: `parts-${++rid}`,
      body: chatBody(512),
      now,
      envelopeCrypto: nodeEnvelopeCrypto,
    });
    out.push(context);
  }
  return out;
}

function threadMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

async function cpuPerCall(part: (c: RequestContext) => Promise<void> | void): Promise<number> {
  const cs = await contexts(calls);
  const start = threadMs();
  for (const c of cs) await part(c);
  return ((threadMs() - start) / calls) * 1000;
}

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}

async function bytesPerCall(
  session: Session,
  part: (c: RequestContext) => Promise<void> | void,
): Promise<number> {
  const n = Math.min(calls, 1000);
  const cs = await contexts(n);
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (const c of cs) await part(c);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
    profile: { head: SamplingNode };
  };
  const sum = (node: SamplingNode): number => node.selfSize + node.children.reduce((a, c) => a + sum(c), 0);
  return sum(profile.head) / n;
}

const session = new Session();
session.connect();
for (const part of Object.values(parts)) for (const c of await contexts(200)) await part(c); // warm-up
const cpu = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const [name, part] of Object.entries(parts))
    cpu.set(name, [...(cpu.get(name) ?? []), await cpuPerCall(part)]);
}
process.stdout.write(
  `${events.length} events, ${sseBytes.length} bytes; ${calls} calls × ${rounds} rounds; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}\n`,
);
for (const [name, part] of Object.entries(parts)) {
  const values = [...cpu.get(name)!].sort((a, b) => a - b);
  const kib = (await bytesPerCall(session, part)) / 1024;
  process.stdout.write(
    `${name.padEnd(7)} cpu ${values[Math.floor(values.length / 2)]!.toFixed(1).padStart(6)} µs (${values.map((v) => v.toFixed(0)).join(' / ')})  heap ${kib.toFixed(1).padStart(6)} KiB per call\n`,
  );
}
session.disconnect();
