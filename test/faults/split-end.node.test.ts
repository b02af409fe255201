/**
 * The gateway's relay reads a stream's body to its end (issue #18 item 4): a worker whose last
 * chunk and chunked terminator come in separate packets still gets whole streams through, on one
 * kept-alive connection. The relay closes the client's side before that terminator arrives; the
 * read of it is kept alive by the request's `waitUntil` (src/gateway/sealing/stream-answer.ts
 * #complete). Without it the request's context ends with the client's body, the pending read is
 * cancelled, and workerd drops the worker's connection: a new one per stream. The real stack
 * (`wrangler dev`) with a byte-level proxy (fault-proxy.ts `split-end`) in front of the AI worker.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chatReplyWords } from '../../src/model/builtin-text.js';
import { parseSseStream } from '../../src/model/sse.js';
import { type E2eStack, startE2eStack } from '../e2e/support.js';
import { type FaultProxy, SPLIT_END_MS, startFaultProxy } from './fault-proxy.js';

const PROMPT = 'a terminator in a packet of its own';
const ANSWER = chatReplyWords(PROMPT).join(' ');
const STREAMS = 4;
let stack: E2eStack;
let worker: FaultProxy;

beforeAll(async () => {
  stack = await startE2eStack({
    gatewayUpstreams: async (real) => {
      worker = await startFaultProxy(real.workerUrl);
      return { serviceUrl: real.serviceUrl, workerUrls: [worker.url] };
    },
  });
}, 240_000);

afterAll(async () => {
  if (stack) {
    const { leftover } = await stack.stop();
    expect(leftover).toEqual([]);
  }
  await worker?.close();
}, 60_000);

/** One streamed chat completion's `data:` payloads. */
async function stream(): Promise<string[]> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'sealgate-builtin',
      stream: true,
      messages: [{ role: 'user', content: PROMPT }],
    }),
  });
  expect(res.status).toBe(200);
  const out: string[] = [];
  for await (const e of parseSseStream(res.body as ReadableStream<Uint8Array>)) out.push(e.data);
  return out;
}

const content = (data: string[]) =>
  data
    .slice(0, -1)
    .map(
      (d) =>
        (JSON.parse(d) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '',
    )
    .join('');

it('a terminator in a later packet: every stream whole, and the worker connection kept alive', async () => {
  worker.fault = 'split-end';
  await stream(); // the first may open the gateway's connection to the proxy
  await new Promise((r) => setTimeout(r, 4 * SPLIT_END_MS));
  const before = worker.connections;
  const faulted = worker.faulted;
  for (let i = 0; i < STREAMS; i++) {
    const data = await stream();
    expect(data.at(-1)).toBe('[DONE]');
    expect(content(data)).toBe(ANSWER);
    // The client's end does not wait for the terminator: the next request waits for it here, so
    // it finds the connection idle rather than still carrying this stream's end.
    await new Promise((r) => setTimeout(r, 4 * SPLIT_END_MS));
  }
  expect(worker.faulted - faulted).toBe(STREAMS); // every one of them split
  expect(worker.connections - before).toBe(0);
}, 120_000);
