/**
 * The worker's node:http listener (src/ai-worker/node-listener.ts) on a real socket: the sealed
 * routes served without the Hono adapter must answer exactly as the app does through
 * `app.request()` (status, headers, error JSON, sealed answers that open), hand every other request
 * to Hono, count the body limit as bytes arrive, stop the model when the client goes away, and
 * write streams with backpressure.
 */
import dc from 'node:diagnostics_channel';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerApp, createWorkerExchange, type WorkerAppDeps } from '../../src/ai-worker/app.js';
import { BodyBudget } from '../../src/ai-worker/body-budget.js';
import type { WorkerLog } from '../../src/ai-worker/log.js';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { createWorkerListener } from '../../src/ai-worker/node-listener.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { type Listening, listenNode } from '../../src/dev/serve.js';
import { SealgateError } from '../../src/errors.js';
import type { Kek } from '../../src/keys/kek.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelBackend } from '../../src/model/types.js';
import { rawConnection, requestHead, statusCodes } from '../support/raw-http.js';
import { expectError, kekAt, openJson, openSse, post, seal, T } from './support.js';

const CHAT = '/v1/chat/completions';
const chatBody = { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'the secret prompt' }] };

const running: Listening[] = [];
afterEach(async () => {
  for (const l of running.splice(0)) await l.close();
});

async function setup(
  opts: {
    keys?: Kek[];
    model?: ModelBackend;
    maxBodyBytes?: number;
    nodeCrypto?: boolean;
    budget?: BodyBudget;
  } = {},
) {
  const keys = new WorkerKeys({ minIntervalMs: 0, clock: () => T * 1000, refresher: async () => undefined });
  for (const k of opts.keys ?? []) await keys.add(k);
  const logs: { level: string; message: string; detail?: Record<string, unknown> }[] = [];
  const log: WorkerLog = (level, message, detail) =>
    logs.push({ level, message, ...(detail ? { detail } : {}) });
  const deps: WorkerAppDeps = {
    keys,
    model: opts.model ?? createBuiltinModel({ now: () => T }),
    manifestDigest: 'ab'.repeat(32),
    simulated: true,
    certificate: () => null,
    clock: () => T * 1000 + 500,
    log,
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    // As server.ts wires it: synchronous node:crypto, so a frame is sealed within the turn.
    ...(opts.nodeCrypto ? { envelopeCrypto: nodeEnvelopeCrypto } : {}),
  };
  const exchange = createWorkerExchange(deps);
  const app = createWorkerApp(deps, exchange);
  const listening = await listenNode(createWorkerListener(app, exchange, opts.budget), {
    port: 0,
    host: '127.0.0.1',
  });
  running.push(listening);
  return { app, url: listening.url, port: listening.port, logs };
}

/** The parts of an answer both paths must agree on. */
async function shape(res: Response) {
  const text = await res.text();
  let code: unknown;
  let message: unknown;
  try {
    const j = JSON.parse(text);
    code = j.error?.code;
    message = j.error?.message;
  } catch {
    code = undefined;
  }
  const h = (n: string) => res.headers.get(n);
  return {
    status: res.status,
    type: h('content-type'),
    cache: h('cache-control'),
    retry: h('retry-after'),
    allow: h('allow'),
    code,
    message,
  };
}

/** A model whose answer the test controls; `aborted` resolves when the worker aborts its call. */
function controlledModel(
  call: (signal: AbortSignal) => Promise<Awaited<ReturnType<ModelBackend['call']>>>,
): ModelBackend & { aborted: Promise<void>; calls: number } {
  let fire: () => void = () => undefined;
  const aborted = new Promise<void>((r) => (fire = r));
  const m = {
    description: 'test',
    aborted,
    calls: 0,
    listModels: async () => ({ object: 'list' as const, data: [] }),
    servesModel: () => true,
    call: (_route: string, req: { signal?: AbortSignal }) => {
      m.calls++;
      req.signal?.addEventListener('abort', fire, { once: true });
      return call(req.signal!);
    },
  };
  return m as ModelBackend & { aborted: Promise<void>; calls: number };
}

/** A raw connection from `from` that sends a head and `sent` of `declared` body bytes, then waits. */
function partialPost(port: number, declared: number, sent: number, from = '127.0.0.1') {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  const out = { answer: '' };
  socket.on('data', (d) => {
    out.answer += d.toString();
  });
  socket.on('error', () => undefined);
  socket.write(
    `POST ${CHAT} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`,
  );
  socket.write('x'.repeat(sent));
  return { socket, out };
}

function rawPost(port: number, path: string, body: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; text: string }>(
    (resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c) => parts.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(parts).toString(),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('node listener: the same answers as the app', () => {
  it('sealed answers open, streamed and not; JSON carries Content-Length and no-store', async () => {
    const kek = await kekAt();
    const { url } = await setup({ keys: [kek] });
    const one = await seal(kek, CHAT, chatBody);
    const res = await post(url, CHAT, one.sealed);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
    const body = await openJson(res, one.context);
    expect(body.choices[0].message.content).toContain('the secret prompt');

    const two = await seal(kek, CHAT, { ...chatBody, stream: true });
    const sse = await post(url, CHAT, two.sealed);
    expect(sse.headers.get('cache-control')).toBe('no-store, no-transform');
    expect(sse.headers.get('x-accel-buffering')).toBe('no');
    const opened = await openSse(sse, two.context);
    expect(opened.error).toBeUndefined();
    expect(opened.chunks.at(-1)).toBe('[DONE]');
  });

  it('every refusal: status, headers, code and message as through app.request()', async () => {
    const kek = await kekAt();
    const other = await kekAt();
    const { app, url } = await setup({ keys: [kek], maxBodyBytes: 4096 });
    const { app: notReadyApp, url: notReadyUrl } = await setup({ keys: [] });
    const cases: [string, (target: string | typeof app, which: 'app' | 'node') => Promise<Response>][] = [
      [
        'not ready',
        async (t) =>
          post(t === app ? notReadyApp : notReadyUrl, CHAT, (await seal(kek, CHAT, chatBody)).sealed),
      ],
      ['wrong type', async (t) => post(t, CHAT, '{}', { 'content-type': 'text/plain' })],
      ['not json', async (t) => post(t, CHAT, '{"a":')],
      ['not utf-8', async (t) => post(t, CHAT, '"\udc00"')],
      ['plain', async (t) => post(t, CHAT, chatBody)],
      ['array', async (t) => post(t, CHAT, [1])],
      ['too large', async (t) => post(t, CHAT, { sealgate: 'x'.repeat(5000) })],
      [
        'too large declared',
        async (t) => {
          if (typeof t !== 'string') return post(t, CHAT, '{}', { 'content-length': String(1 << 30) });
          // fetch will not send a Content-Length its body does not match: node:http will.
          const r = await rawPost(Number(new URL(t).port), CHAT, '{}', { 'content-length': String(1 << 30) });
          return new Response(r.text, {
            status: r.status,
            headers: Object.entries(r.headers).map(([k, v]) => [k, String(v)] as [string, string]),
          });
        },
      ],
      [
        'content-coded (a gzip label on a plain sealed body)',
        async (t) => post(t, CHAT, (await seal(kek, CHAT, chatBody)).sealed, { 'content-encoding': 'gzip' }),
      ],
      ['unknown key', async (t) => post(t, CHAT, (await seal(other, CHAT, chatBody)).sealed)],
      [
        'tampered',
        async (t) => {
          const { sealed } = await seal(kek, CHAT, chatBody);
          // Always another first character (a ct that began with 'A' was once "tampered" into itself).
          const ct = sealed.sealgate.ct;
          return post(t, CHAT, {
            ...sealed,
            sealgate: { ...sealed.sealgate, ct: `${ct.startsWith('A') ? 'B' : 'A'}${ct.slice(1)}` },
          });
        },
      ],
      ['other route', async (t) => post(t, CHAT, (await seal(kek, '/v1/completions', chatBody)).sealed)],
      [
        'unknown model',
        async (t) => post(t, CHAT, (await seal(kek, CHAT, { ...chatBody, model: 'nope' })).sealed),
      ],
      [
        'model refuses',
        async (t) => post(t, CHAT, (await seal(kek, CHAT, { model: BUILTIN_MODEL_ID })).sealed),
      ],
      ['query string', async (t) => post(t, `${CHAT}?x=1`, chatBody)],
      ['trailing slash (Hono)', async (t) => post(t, `${CHAT}/`, chatBody)],
      ['encoded path (Hono)', async (t) => post(t, '/v1/chat%2Fcompletions', chatBody)],
      [
        'wrong method (Hono)',
        async (t) =>
          typeof t === 'string'
            ? fetch(`${t}${CHAT}`, { method: 'PUT' })
            : t.request(CHAT, { method: 'PUT' }),
      ],
      ['health (Hono)', async (t) => (typeof t === 'string' ? fetch(`${t}/healthz`) : t.request('/healthz'))],
    ];
    for (const [name, send] of cases) {
      const viaApp = await shape(await send(app, 'app'));
      const viaNode = await shape(await send(url, 'node'));
      expect({ name, ...viaNode }).toEqual({ name, ...viaApp });
    }
  });

  it('a sealed body labelled with a content coding, or a transfer coding but chunked, is 415 on both paths', async () => {
    const kek = await kekAt();
    const { app, port, url } = await setup({ keys: [kek] });
    const body = JSON.stringify((await seal(kek, CHAT, chatBody)).sealed);
    for (const target of [app, url]) {
      const coded = await post(target, CHAT, body, { 'content-encoding': 'gzip' });
      expect(coded.status).toBe(415);
      expect(coded.headers.get('accept-encoding')).toBe('identity');
    }
    const viaApp = await post(app, CHAT, body, { 'transfer-encoding': 'gzip, chunked' });
    expect(viaApp.status).toBe(415);
    expect(((await viaApp.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    // fetch will not send a transfer coding; Node's parser takes `gzip, chunked` and decodes only chunked.
    const size = Buffer.byteLength(body).toString(16);
    const { received } = rawConnection(
      port,
      `${requestHead('POST', CHAT, ['transfer-encoding: gzip, chunked', 'connection: close'])}${size}\r\n${body}\r\n0\r\n\r\n`,
    );
    const text = await received;
    expect(statusCodes(text)).toEqual([415]);
    expect(text).toContain('"code":"unsupported_media_type"');
  });

  it('a replay is caught across both paths: one replay guard', async () => {
    const kek = await kekAt();
    const { app, url } = await setup({ keys: [kek] });
    const { sealed } = await seal(kek, CHAT, chatBody);
    expect((await post(url, CHAT, sealed)).status).toBe(200);
    await expectError(await post(app, CHAT, sealed), 409, 'replay_detected');
    await expectError(await post(url, CHAT, sealed), 409, 'replay_detected');
  });

  it('an unexpected failure is 500 internal_error in OpenAI JSON, and logged', async () => {
    const kek = await kekAt();
    const model = controlledModel(async () => ({ kind: 'json', body: {} }));
    model.servesModel = () => {
      throw new TypeError('boom: secret detail');
    };
    const { url, logs } = await setup({ keys: [kek], model });
    const res = await post(url, CHAT, (await seal(kek, CHAT, chatBody)).sealed);
    expect(await expectError(res, 500, 'internal_error')).toBe('internal error');
    expect(logs.some((l) => l.level === 'error')).toBe(true);
  });
});

describe('node listener: transport', () => {
  it('counts the body limit as bytes arrive (chunked, no Content-Length), then serves the next connection', async () => {
    const kek = await kekAt();
    const { port, url } = await setup({ keys: [kek], maxBodyBytes: 4096 });
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: CHAT,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        },
        (r) => {
          const parts: Buffer[] = [];
          r.on('data', (c) => parts.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
        },
      );
      req.on('error', reject);
      req.write('{"sealgate":"');
      req.write('x'.repeat(3000));
      req.write('x'.repeat(3000));
      req.end('"}');
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).error.code).toBe('payload_too_large');
    const ok = await seal(kek, CHAT, chatBody);
    expect((await rawPost(Number(new URL(url).port), CHAT, JSON.stringify(ok.sealed))).status).toBe(200);
  });

  it('a body far over the limit is refused without being read to its end: the connection closes', async () => {
    const { port } = await setup({ keys: [await kekAt()], maxBodyBytes: 1024 });
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => undefined);
    socket.write(
      `POST ${CHAT} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`,
    );
    // Keep sending: the worker answers 413, drains a while, then closes rather than read forever.
    const chunk = `${(64 * 1024).toString(16)}\r\n${'x'.repeat(64 * 1024)}\r\n`;
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(chunk);
    }, 5);
    await closed;
    clearInterval(timer);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"payload_too_large"');
  });

  it("past the process's budget of body bytes in flight: 503 not_ready, given back when answers are done", async () => {
    const kek = await kekAt();
    // One peer (127.0.0.1) here: its share is the whole budget, to show the process's bound alone.
    const budget = new BodyBudget(100_000, 100_000);
    const { port } = await setup({ keys: [kek], budget });
    // A peer that never finishes its body holds 80 000 bytes of the budget.
    const slow = partialPost(port, 90_000, 80_000);
    await expect.poll(() => budget.inFlight).toBe(80_000);
    // An honest request fits beside it and is answered.
    const ok = await seal(kek, CHAT, chatBody);
    expect((await rawPost(port, CHAT, JSON.stringify(ok.sealed))).status).toBe(200);
    // One that would pass the budget is refused as busy, not read on: the gateway tries another worker.
    const big = partialPost(port, 40_000, 40_000);
    await expect.poll(() => big.out.answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(big.out.answer).toMatch(/retry-after: 1\r\n/i);
    expect(big.out.answer).toContain('"code":"not_ready"');
    big.socket.destroy();
    // The slow peer goes away: its bytes are given back, and the budget is whole again.
    slow.socket.destroy();
    await expect.poll(() => budget.inFlight).toBe(0);
    const again = await seal(kek, CHAT, {
      ...chatBody,
      messages: [{ role: 'user', content: 'y'.repeat(30_000) }],
    });
    expect((await rawPost(port, CHAT, JSON.stringify(again.sealed))).status).toBe(200);
    expect(budget.inFlight).toBe(0);
  });

  it("one peer cannot fill the budget: past its share, 503 to it alone; the process's bound holds across peers", async () => {
    const kek = await kekAt();
    const budget = new BodyBudget(100_000); // each peer's share: a quarter, 25 000 bytes
    expect(budget.perPeerBytes).toBe(25_000);
    const { port } = await setup({ keys: [kek], budget });
    // Peer A (127.0.0.2, real sockets from that address) holds 20 000 bytes of a body it never finishes.
    const a = partialPost(port, 30_000, 20_000, '127.0.0.2');
    await expect.poll(() => budget.peerInFlight('127.0.0.2')).toBe(20_000);
    // Its next body would pass its share: refused as busy and not read on, with 80 000 bytes free.
    // (Before, one peer could hold the whole budget and every other peer got 503.)
    const over = partialPost(port, 10_000, 10_000, '127.0.0.2');
    await expect.poll(() => over.out.answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(over.out.answer).toContain('"code":"not_ready"');
    over.socket.destroy();
    expect(budget.inFlight).toBe(20_000);
    // Another peer (127.0.0.1) is served beside it.
    const ok = await seal(kek, CHAT, chatBody);
    expect((await rawPost(port, CHAT, JSON.stringify(ok.sealed))).status).toBe(200);
    // Three more peers hold 20 000 each: 80 000 in all, every one within its share...
    const others = ['127.0.0.3', '127.0.0.4', '127.0.0.5'].map((from) =>
      partialPost(port, 30_000, 20_000, from),
    );
    await expect.poll(() => budget.inFlight).toBe(80_000);
    // ...so a fifth peer's 21 000 bytes, within its own share, would pass the process's bound: 503.
    const fifth = partialPost(port, 21_000, 21_000, '127.0.0.6');
    await expect.poll(() => fifth.out.answer).toMatch(/^HTTP\/1\.1 503 /);
    fifth.socket.destroy();
    for (const p of [a, ...others]) p.socket.destroy();
    await expect.poll(() => budget.inFlight).toBe(0);
    expect(budget.peerInFlight('127.0.0.2')).toBe(0);
  });

  it('the client going away before the answer aborts the model call', async () => {
    const kek = await kekAt();
    const model = controlledModel(
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new SealgateError('fetch_failed', 'x'))),
        ),
    );
    const { url } = await setup({ keys: [kek], model });
    const c = new AbortController();
    const pending = Promise.resolve(
      post(url, CHAT, (await seal(kek, CHAT, chatBody)).sealed, {}, c.signal),
    ).catch(() => 'aborted');
    while (model.calls === 0) await new Promise((r) => setTimeout(r, 5));
    c.abort();
    expect(await pending).toBe('aborted');
    await model.aborted; // resolves only if the worker aborted the model call
  });

  it('the client going away mid-stream stops the model', async () => {
    const kek = await kekAt();
    let produced = 0;
    const model = controlledModel(async (signal) => ({
      kind: 'stream',
      events: (async function* () {
        while (!signal.aborted) {
          produced++;
          yield `{"n":${produced}}`;
          await new Promise((r) => setTimeout(r, 2));
        }
      })(),
    }));
    const { url } = await setup({ keys: [kek], model });
    const c = new AbortController();
    const res = await post(
      url,
      CHAT,
      (await seal(kek, CHAT, { ...chatBody, stream: true })).sealed,
      {},
      c.signal,
    );
    const reader = res.body!.getReader();
    await reader.read();
    c.abort();
    await model.aborted;
    const at = produced;
    await new Promise((r) => setTimeout(r, 50));
    expect(produced - at).toBeLessThanOrEqual(1);
  });

  it("a stream's head is not held back by a model slow to its first event, and brings the header", async () => {
    const kek = await kekAt();
    let release: () => void = () => undefined;
    const first = new Promise<void>((r) => (release = r));
    const model = controlledModel(async () => ({
      kind: 'stream',
      events: (async function* () {
        await first;
        yield '{"n":1}';
        yield '[DONE]';
      })(),
    }));
    const { url } = await setup({ keys: [kek], model });
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, stream: true });
    // The head arrives while the model has produced nothing (fetch resolves on the head).
    const res = await post(url, CHAT, sealed);
    expect(res.status).toBe(200);
    // With it, the stream's header alone ("SGS3" ‖ rs): the gateway derives the stream key from it
    // while the model works. The first record that follows does not repeat it.
    const reader = res.body!.getReader();
    const header = (await reader.read()).value!;
    expect(header).toHaveLength(36);
    expect(new TextDecoder().decode(header.subarray(0, 4))).toBe('SGS3');
    release();
    const rest = new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(header),
      pull: async (c) => {
        const next = await reader.read();
        if (next.done) c.close();
        else c.enqueue(next.value);
      },
    });
    const opened = await openSse(new Response(rest, { headers: res.headers }), context);
    expect(opened.error).toBeUndefined();
    expect(opened.chunks).toEqual(['{"n":1}', '[DONE]']);
  });

  it('the first frame reaches the socket before the model is asked for its next event', async () => {
    // node:http holds a chunked write until process.nextTick, i.e. until the microtasks after it
    // ran — among them the sealed stream's producer taking the model's next events. The order of
    // the two, seen on the server's socket and in the model's iterator, says which went first.
    const kek = await kekAt();
    const order: string[] = [];
    let asked = 0;
    const events = ['{"n":1}', '{"n":2}', '[DONE]'];
    const model = controlledModel(async () => ({
      kind: 'stream',
      events: {
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            order.push(`next ${++asked}`);
            const value = events[asked - 1];
            return value === undefined ? { done: true as const, value: undefined } : { done: false, value };
          },
        }),
      },
    }));
    const { url } = await setup({ keys: [kek], model, nodeCrypto: true });
    const onSocket = (msg: unknown) => {
      const { socket } = msg as { socket: Socket };
      const write = socket.write;
      socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
        order.push('socket write');
        return write.apply(this, args);
      } as Socket['write'];
    };
    dc.subscribe('net.server.socket', onSocket);
    try {
      const { sealed, context } = await seal(kek, CHAT, { ...chatBody, stream: true });
      const res = await post(url, CHAT, sealed);
      const opened = await openSse(res, context);
      expect(opened.chunks).toEqual(['{"n":1}', '{"n":2}', '[DONE]']);
    } finally {
      dc.unsubscribe('net.server.socket', onSocket);
    }
    // The head and the first frame reach the socket before the producer asks for event 2.
    const firstWrite = order.indexOf('socket write');
    expect(order.indexOf('next 1')).toBeLessThan(firstWrite);
    expect(firstWrite).toBeLessThan(order.indexOf('next 2'));
  });

  it('the client going away after the head, before the first event, stops the model', async () => {
    const kek = await kekAt();
    let release: () => void = () => undefined;
    const first = new Promise<void>((r) => (release = r));
    let produced = 0;
    const model = controlledModel(async (signal) => ({
      kind: 'stream',
      events: (async function* () {
        await first;
        while (!signal.aborted) {
          produced++;
          yield `{"n":${produced}}`;
          await new Promise((r) => setTimeout(r, 2));
        }
      })(),
    }));
    const { url } = await setup({ keys: [kek], model });
    const c = new AbortController();
    const { sealed } = await seal(kek, CHAT, { ...chatBody, stream: true });
    const res = await post(url, CHAT, sealed, {}, c.signal); // the head alone: no event yet
    expect(res.status).toBe(200);
    c.abort();
    await new Promise((r) => setTimeout(r, 20));
    release();
    await model.aborted; // resolves only if the worker aborted the model call
    const at = produced;
    await new Promise((r) => setTimeout(r, 50));
    expect(produced - at).toBeLessThanOrEqual(1);
  });

  it('a model stream with no event at all: the head, then the sealed end frame alone', async () => {
    const kek = await kekAt();
    const model = controlledModel(async () => ({
      kind: 'stream',
      events: (async function* () {})(),
    }));
    const { url } = await setup({ keys: [kek], model });
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, stream: true });
    const res = await post(url, CHAT, sealed);
    expect(res.status).toBe(200);
    const opened = await openSse(res, context);
    expect(opened.error).toBeUndefined();
    expect(opened.chunks).toEqual([]);
    expect(opened.frames).toHaveLength(1); // the end frame alone, sealed: not a truncated stream
    expect(opened.types).toEqual([1]);
  });

  it('a stream is written with backpressure: an unread answer pauses the model, then arrives whole', async () => {
    const kek = await kekAt();
    const TOTAL = 2000;
    let produced = 0;
    const big = 'z'.repeat(8 * 1024);
    const model = controlledModel(async () => ({
      kind: 'stream',
      events: (async function* () {
        for (let i = 0; i < TOTAL; i++) {
          produced++;
          yield JSON.stringify({ i, big });
        }
        yield '[DONE]';
      })(),
    }));
    const { url } = await setup({ keys: [kek], model });
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, stream: true });
    const res = await post(url, CHAT, sealed);
    // Nothing read: ~22 MB of frames offered. The model must stall (socket buffers full, the
    // stream's read-ahead bound reached) well before its end — wait until it stops producing.
    let last = -1;
    while (produced !== last && produced < TOTAL) {
      last = produced;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(produced).toBeLessThan(TOTAL);
    const opened = await openSse(res, context);
    expect(opened.error).toBeUndefined();
    expect(opened.chunks).toHaveLength(TOTAL + 1);
    expect(JSON.parse(opened.chunks[TOTAL - 1]!).i).toBe(TOTAL - 1);
  });

  it('a model failing mid-stream: the frames before it, then its failure sealed in place of the end', async () => {
    const kek = await kekAt();
    const model = controlledModel(async () => ({
      kind: 'stream',
      events: (async function* () {
        yield '{"a":1}';
        yield '{"a":2}';
        throw new SealgateError('model_error', 'model server stream broke off', undefined, {
          clientMessage: 'the model ran out of memory',
        });
      })(),
    }));
    const { url, logs } = await setup({ keys: [kek], model });
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, stream: true });
    const opened = await openSse(await post(url, CHAT, sealed), context);
    expect(opened.chunks).toEqual(['{"a":1}', '{"a":2}']);
    // One failure, one log line: its code and detail with the frames sent before it, never the
    // client's text.
    const lines = logs.filter((l) => l.message.startsWith('model stream'));
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'model stream: refused: sealed stream ends without its end frame',
        detail: {
          rid: context.requestId,
          frames: 3,
          code: 'model_error',
          error: 'model server stream broke off',
        },
      },
    ]);
    expect(JSON.stringify(logs)).not.toContain('out of memory');
    // The opener's model_error; the sealed message itself: test/gateway/sealed-errors.worker.test.ts.
    expect(opened.error).toEqual({
      code: 'model_error',
      message: 'sealed stream: the worker reported a failure (model_error)',
    });
  });
});
