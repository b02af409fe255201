/**
 * Faults on the REAL stack (issue #6 part 2, the slow half; `npm run test:faults`): `startStack`
 * (gateway under `wrangler dev` with real KV and Durable Object, attestation service, AI worker with
 * the built-in model) with a byte-level fault proxy (fault-proxy.ts) between the gateway and the
 * worker and another between the gateway and the attestation service. For each fault: the client
 * gets a typed OpenAI error (JSON, or an error event that ends the stream — docs/protocol.md,
 * never `[DONE]`), the prompt and the answer never cross either proxy in the clear, and once the
 * fault clears the next request is served completely and correctly.
 *
 * The fast faults (KV tampering, DO restart, clock skew, …) run in workerd: test/gateway/faults.worker.test.ts.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatReplyWords } from '../../src/model/builtin-text.js';
import { parseSseStream } from '../../src/model/sse.js';
import { type E2eStack, startE2eStack } from '../e2e/support.js';
import { type FaultProxy, SPLIT_END_MS, startFaultProxy } from './fault-proxy.js';

const PROMPT = 'fault injection keeps this prompt sealed';
const ANSWER = chatReplyWords(PROMPT).join(' ');
let stack: E2eStack;
let worker: FaultProxy;
let service: FaultProxy;
let openai: OpenAI;

beforeAll(async () => {
  stack = await startE2eStack({
    gatewayUpstreams: async (real) => {
      worker = await startFaultProxy(real.workerUrl);
      service = await startFaultProxy(real.serviceUrl);
      return { serviceUrl: service.url, workerUrls: [worker.url] };
    },
  });
  openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.apiKey, maxRetries: 0 });
}, 240_000);

afterAll(async () => {
  if (stack) {
    const { leftover } = await stack.stop();
    expect(leftover).toEqual([]);
  }
  await worker?.close();
  await service?.close();
  // Nothing of the prompt or the answer ever crossed a proxy in the clear, under any fault.
  expect(worker.wire.length).toBeGreaterThan(0);
  for (const text of [...worker.wire, ...service.wire]) {
    expect(text).not.toContain(PROMPT);
    expect(text).not.toContain('keeps this prompt');
    expect(text).not.toContain('sealed prompt this keeps'); // words of the answer (backwards)
  }
}, 60_000);

const post = (stream = false) =>
  fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'sealgate-builtin',
      stream,
      messages: [{ role: 'user', content: PROMPT }],
    }),
  });

async function expectTypedError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  const text = await res.text();
  expect(text).not.toContain(PROMPT);
  const body = JSON.parse(text) as { error: { code: string; message: string; type: string } };
  expect(body.error.code).toBe(code);
}

/** SSE `data:` payloads of a streamed answer. */
async function streamData(res: Response): Promise<string[]> {
  expect(res.status).toBe(200);
  const out: string[] = [];
  for await (const e of parseSseStream(res.body as ReadableStream<Uint8Array>)) out.push(e.data);
  return out;
}

/** The stream ended with a typed error event (nothing unverified, never [DONE]). */
async function expectStreamError(res: Response, codes: string[]): Promise<void> {
  const data = await streamData(res);
  expect(data).not.toContain('[DONE]');
  expect(data.join('\n')).not.toContain(ANSWER);
  const last = JSON.parse(data.at(-1)!) as { error?: { code: string } };
  expect(codes).toContain(last.error?.code);
}

/** The fault cleared: served, complete and correct (JSON through the SDK, and a stream). */
async function expectResumed(): Promise<void> {
  worker.fault = 'pass';
  service.fault = 'pass';
  const json = await openai.chat.completions.create({
    model: 'sealgate-builtin',
    messages: [{ role: 'user', content: PROMPT }],
  });
  expect(json.choices[0]!.message.content).toBe(ANSWER);
  await expectWholeStream();
}

/** A streamed answer, whole: the model's exact answer, then [DONE]. */
async function expectWholeStream(): Promise<void> {
  const data = await streamData(await post(true));
  expect(data.at(-1)).toBe('[DONE]');
  const text = data
    .slice(0, -1)
    .map(
      (d) =>
        (JSON.parse(d) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '',
    )
    .join('');
  expect(text).toBe(ANSWER);
}

describe('faults between the gateway and the AI worker', () => {
  it('worker down (connections reset): typed 503 no_worker_available; resumes', async () => {
    worker.fault = 'drop';
    await expectTypedError(await post(), 503, 'no_worker_available');
    const sdk = await openai.chat.completions
      .create({ model: 'sealgate-builtin', messages: [{ role: 'user', content: PROMPT }] })
      .catch((e: unknown) => e);
    expect(sdk).toBeInstanceOf(OpenAI.APIError);
    expect((sdk as InstanceType<typeof OpenAI.APIError>).code).toBe('no_worker_available');
    await expectResumed();
  });

  it('worker slow (answers held 3 s): the answer arrives complete and correct', async () => {
    worker.fault = 'delay';
    worker.delayMs = 3000;
    const before = worker.faulted;
    const data = await streamData(await post(true));
    expect(worker.faulted).toBeGreaterThan(before);
    expect(data.at(-1)).toBe('[DONE]');
    await expectResumed();
  });

  it('tampered answer bytes: 502 upstream_tampered (JSON), an error event (stream); resumes', async () => {
    worker.fault = 'tamper';
    await expectTypedError(await post(), 502, 'upstream_tampered');
    await expectStreamError(await post(true), ['upstream_tampered']);
    await expectResumed();
  });

  it('truncated answers: a cut JSON body is 502, a stream without its end frame ends stream_truncated', async () => {
    worker.fault = 'truncate';
    const res = await post();
    expect(res.status).toBe(502);
    expect(['upstream_tampered', 'upstream_unavailable']).toContain(
      ((await res.json()) as { error: { code: string } }).error.code,
    );
    await expectStreamError(await post(true), ['stream_truncated']);
    await expectResumed();
  });

  it('reordered stream frames: an error event right there; resumes', async () => {
    worker.fault = 'reorder';
    await expectStreamError(await post(true), ['upstream_tampered', 'stream_truncated']);
    await expectResumed();
  });

  // The relay reads a stream's body to its end (its chunked terminator) under the request's
  // waitUntil (src/gateway/sealing/stream-answer.ts #complete). Before, the request's context ended
  // with the client's body and cancelled that read, and workerd dropped the worker's connection: a
  // new one per stream when the terminator came in a packet of its own.
  it('a terminator in a later packet: every stream whole, and the worker connection kept alive', async () => {
    worker.fault = 'split-end';
    const settle = () => new Promise((r) => setTimeout(r, 4 * SPLIT_END_MS)); // the terminator came
    await expectWholeStream(); // this one may open the gateway's connection to the proxy
    await settle();
    const before = { connections: worker.connections, faulted: worker.faulted };
    for (let i = 0; i < 4; i++) {
      await expectWholeStream();
      // The client's end does not wait for the terminator: the next request waits for it here,
      // so it finds the connection idle rather than still carrying this stream's end.
      await settle();
    }
    expect(worker.faulted - before.faulted).toBe(4); // every one of them split
    expect(worker.connections - before.connections).toBe(0);
    await expectResumed();
  });

  it('a request whose key id was swapped on the wire: one refresh and retry, then typed 503; resumes', async () => {
    worker.fault = 'swap-kid';
    worker.match = /^POST \/v1\/chat\/completions/;
    await expectTypedError(await post(), 503, 'no_worker_available');
    worker.match = /.*/;
    await expectResumed();
  });
});

describe('faults between the gateway and the attestation service', () => {
  it('service down mid-run: the gateway keeps serving under its current key (no attestation on the request path)', async () => {
    service.fault = 'drop';
    const json = await openai.chat.completions.create({
      model: 'sealgate-builtin',
      messages: [{ role: 'user', content: PROMPT }],
    });
    expect(json.choices[0]!.message.content).toBe(ANSWER);
    await expectResumed();
  });
});
