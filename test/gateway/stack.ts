/**
 * A whole Sealgate stack inside workerd for the gateway's tests: the REAL attestation service app
 * (`createServiceApp`) and AI worker app (`createWorkerApp` + `WorkerSession`, built-in model) on
 * the simulator, built from the chain vitest.gateway.config.ts made (GATEWAY_TEST_CHAIN), reached
 * through a stubbed global `fetch` (the gateway and its Durable Object run in this isolate, so
 * they use it too). Each upstream host has a mode the tests switch to break it on purpose.
 */
import { env as rawEnv, runInDurableObject } from 'cloudflare:test';
import { describe, vi } from 'vitest';
import { createWorkerApp } from '../../src/ai-worker/app.js';
import { WorkerSession } from '../../src/ai-worker/attest-to-service.js';
import { answerResponse, failureAnswer } from '../../src/ai-worker/sealed-exchange.js';
import { encodeWorkerConfig, workerConfig } from '../../src/attestation/worker-config.js';
import { createServiceApp } from '../../src/attestation-service/app.js';
import type { BucketSpec } from '../../src/attestation-service/rate-limit.js';
import { generateServiceKeys, type ServiceKeys } from '../../src/attestation-service/service-keys.js';
import { concatBytes } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { receiptRecord } from '../../src/envelope/stream.js';
import { SealgateError } from '../../src/errors.js';
import type { GatewayEnv } from '../../src/gateway/config.js';
import { keepExactNumbers } from '../../src/json/exact-numbers.js';
import { withApiRoutes } from '../../src/model/api-routes.js';
import { createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelBackend } from '../../src/model/types.js';
import { createUpstreamModel } from '../../src/model/upstream.js';
import { importDevChain } from '../../src/platform/simulator/dev-chain-json.js';

export const env = rawEnv as unknown as GatewayEnv & { GATEWAY_TEST_CHAIN: string; DEV_API_KEY: string };
/**
 * The gateway's bindings exist only under vitest.gateway.config.ts; the repo-wide workerd project
 * also picks up `*.worker.test.ts` and must skip these rather than fail.
 */
export const HAS_GATEWAY_BINDINGS = Boolean(
  (rawEnv as Record<string, unknown> | undefined)?.SEALGATE_KV &&
    (rawEnv as Record<string, unknown> | undefined)?.GATEWAY_TEST_CHAIN,
);
export const gatewayDescribe = HAS_GATEWAY_BINDINGS ? describe : describe.skip;

/** The development key's headers for a JSON request to the gateway. */
export const KEY = { authorization: `Bearer ${env.DEV_API_KEY}`, 'content-type': 'application/json' };
/** A chat prompt: never to be seen upstream in the clear. */
export const PROMPT = [{ role: 'user', content: 'the secret prompt' }];

export const SERVICE = 'http://attestation-service.test';
export const WORKER_A = 'http://worker-a.test';
export const WORKER_B = 'http://worker-b.test';

export type WorkerMode =
  | 'ok'
  | 'down'
  | 'busy'
  | 'tamper-json'
  | 'truncate-stream'
  | 'tamper-stream'
  /** A hostile worker: the second frame's ciphertext replaced by one over the frame cap (MAX_FRAME_BYTES). */
  | 'huge-frame'
  /** The authentic answer, but its body arrives in 7-byte reads (frames split across reads). */
  | 'trickle-stream'
  /** As trickle-stream, counting the gateway's reads of the body and whether it cancelled it (`stack.body`). */
  | 'counted-stream'
  /** As counted-stream, with an event after the receipt trailer (nothing may follow it). */
  | 'after-trailer'
  /** Receipts (docs/protocol.md "Receipts"): */
  | 'tamper-receipt' // one character of the JSON answer's receipt header changed
  | 'no-receipt' // the JSON answer without its receipt header
  | 'drop-trailer' // a stream without its receipt trailer (the end frame intact)
  | 'tamper-trailer' // one character of the stream's receipt changed
  | 'no-certificate' // the answer without its worker certificate header
  | 'swap-certificate' // the answer with `stack.swapCertificate` as its worker certificate
  /** Frames 1 and 2 of the sealed stream swapped (each authentic on its own). */
  | 'reorder-stream'
  /** The authentic sealed answer to an EARLIER request (another DEK, request id, maybe key). */
  | 'replay-answer'
  /** The authentic format-3 stream labelled `text/event-stream` (format 2's type): no fallback. */
  | 'sse-typed-stream'
  /** Accepts the connection and never answers (only the caller's signal ends the wait). */
  | 'hang'
  /**
   * Refuses every sealed request as a worker restarted after the seal's second does (or one a copy
   * of the request reached first): the worker's own `409 replay_detected` answer, nothing opened.
   */
  | 'replay-refused'
  /** Answers GET /v1/models with a list of more than 1 MiB. */
  | 'huge-models'
  /**
   * Answers GET /v1/models 200 with its head and half a list, then stalls: the body neither ends
   * nor errors, not even when the caller's fetch signal aborts (a fetcher need not tie it to the body).
   */
  | 'stall-models';

/** The mocked clock (Date.now), moved by tests; the DO and the apps read it too. */
export const clock = { offsetMs: 0 };
const realNow = Date.now.bind(Date);
export function installClock(): void {
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + clock.offsetMs);
}
export function advance(seconds: number): void {
  clock.offsetMs += seconds * 1000;
}
/**
 * Keeps a test off a UTC minute's end: with under 30 s left in this minute (of the installed
 * clock: real time plus the offset), the clock moves on to the next minute's start. A key's
 * minute window (tpm, `minuteTokens`) then cannot roll over between a request and the check of
 * its count — which otherwise reads the new minute's zero, once a minute's worth of runs.
 */
export function awayFromMinuteEnd(): void {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 30_000) advance((60_000 - intoMinute + 500) / 1000);
}

export interface Stack {
  dev: DevelopmentEnvironment;
  serviceDown: boolean;
  modes: Record<string, WorkerMode>;
  /** Every upstream call the stubbed fetch saw: "METHOD url". */
  calls: string[];
  /** base64url DER put in place of the worker's certificate in mode `swap-certificate`. */
  swapCertificate: string;
  /** Every string body the gateway (or its DO) sent upstream (to assert no plaintext crossed). */
  wire: string[];
  session: WorkerSession;
  /** A new service process: new keys, no KEKs (it holds them in memory only). */
  restartService(): Promise<void>;
  /** Budgets the next `restartService` gives the new process (unset: the service's defaults). */
  serviceConfig: { keyWriteLimits?: BucketSpec };
  /** The running service's keys (to issue certificates as the verified service would). */
  serviceKeys: ServiceKeys;
  /**
   * When set, the worker presents this certificate (DER) and signs its receipts naming it, in place
   * of the one it registered with: a certificate its issuer got wrong.
   */
  workerCertificate: Uint8Array | undefined;
  /**
   * A fault on one service route only (`"POST /v1/keys"`): `down` refuses the connection, `hold`
   * parks the call until `releaseHeld()` (to stop a rotation half-way).
   */
  serviceFaults: Record<string, 'down' | 'hold'>;
  /**
   * A man in the middle on the gateway ↔ service hop: when set, every call to the service goes
   * through it; `real` reaches the service.
   */
  serviceRelay:
    | ((url: string, init: RequestInit | undefined, real: typeof fetch) => Promise<Response>)
    | undefined;
  /** Resolves when a call is parked by a `hold` fault. */
  held(): Promise<void>;
  releaseHeld(): void;
  /** The AI worker's clock minus the gateway's (ms): clock skew between the two. */
  workerSkewMs: number;
  /** Modes `counted-stream`, `after-trailer`: reads of the last such body the gateway made, of how many it has, and whether it cancelled it. */
  body: { reads: number; total: number; cancelled: boolean };
  /** When set, the worker's model answers every streamed request with these `data:` payloads. */
  modelStream: readonly string[] | undefined;
  /** With `modelStream`: after its payloads the stream stays open until the model call is aborted. */
  modelStreamHangs: boolean;
  /** With `modelStream`: the model goes silent after its first payload until this settles. */
  modelStreamPause: Promise<void> | undefined;
  /**
   * When set, the worker's model answers every request not streamed with this JSON text, read as
   * src/model/upstream.ts reads a model server's answer (numbers beyond 2^53 kept as written).
   */
  modelJson: string | undefined;
  /** Every request body the worker's model received, opened (what a model server would be sent). */
  modelBodies: Record<string, unknown>[];
  /**
   * When set, the worker's model is a model server (src/model/upstream.ts, after the translation of
   * Messages and Responses) that answers every request with this status and JSON body (a string:
   * this SSE text) — or, as `unreachable`, cannot be reached.
   */
  modelServer: { status: number; body: unknown } | 'unreachable' | undefined;
}

export async function startStack(): Promise<Stack> {
  const chain = await importDevChain(JSON.parse(env.GATEWAY_TEST_CHAIN));
  const dev = await createDevelopmentEnvironment({
    now: new Date(Date.now()),
    chain,
    gatewaySecret: env.GATEWAY_SECRET!,
  });
  let serviceKeys = await generateServiceKeys();
  const serviceConfig: Stack['serviceConfig'] = {};
  const makeService = async () =>
    createServiceApp({
      manifestBytes: dev.manifestBytes,
      manifest: dev.manifest,
      manifestDigest: dev.manifestDigest,
      platform: dev.servicePlatform,
      keys: serviceKeys,
      now: () => new Date(Date.now()),
      log: () => undefined,
      ...(serviceConfig.keyWriteLimits ? { keyWriteLimits: serviceConfig.keyWriteLimits } : {}),
    });
  let serviceApp = await makeService();
  let parked: (() => void)[] = [];
  let onHeld: (() => void)[] = [];
  const stack: Stack = {
    dev,
    serviceDown: false,
    modes: { [WORKER_A]: 'ok', [WORKER_B]: 'ok' },
    calls: [],
    swapCertificate: '',
    wire: [],
    body: { reads: 0, total: 0, cancelled: false },
    modelStream: undefined,
    modelStreamHangs: false,
    modelStreamPause: undefined,
    modelJson: undefined,
    modelBodies: [],
    modelServer: undefined,
    session: undefined as unknown as WorkerSession,
    restartService: async () => {
      serviceKeys = await generateServiceKeys();
      stack.serviceKeys = serviceKeys;
      serviceApp = await makeService();
    },
    serviceConfig,
    serviceKeys,
    workerCertificate: undefined,
    serviceFaults: {},
    serviceRelay: undefined,
    held: () => new Promise<void>((resolve) => onHeld.push(resolve)),
    releaseHeld: () => {
      const go = parked;
      parked = [];
      for (const resolve of go) resolve();
    },
    workerSkewMs: 0,
  };
  const toService = async (url: string, init?: RequestInit) => {
    if (stack.serviceDown) throw new TypeError('connection refused (test: service down)');
    const fault = stack.serviceFaults[`${init?.method ?? 'GET'} ${new URL(url).pathname}`];
    if (fault === 'down') throw new TypeError('connection refused (test: service route down)');
    if (fault === 'hold') {
      const waiting = onHeld;
      onHeld = [];
      for (const resolve of waiting) resolve();
      await new Promise<void>((resolve) => parked.push(resolve));
    }
    const real = ((u: string, i?: RequestInit) => serviceApp.request(u, i)) as typeof fetch;
    return stack.serviceRelay ? await stack.serviceRelay(url, init, real) : await real(url, init);
  };
  stack.session = new WorkerSession({
    serviceUrl: SERVICE,
    platform: dev.workerPlatform,
    manifest: dev.manifestBytes,
    manifestDigest: dev.manifestDigest,
    config: encodeWorkerConfig(workerConfig({ apiKey: false })),
    fetch: toService as typeof fetch,
    clock: () => Date.now(),
    minRefreshIntervalMs: 0,
    log: () => undefined,
  });
  const workerApp = createWorkerApp({
    keys: stack.session.keys,
    model: scriptedStreams(createBuiltinModel({ models: ['sealgate-builtin', 'gpt-4o-mini'] }), stack),
    manifestDigest: dev.manifestDigest,
    simulated: true,
    certificate: () => stack.workerCertificate ?? stack.session.certificate,
    receiptSigner: () => {
      const signer = stack.session.receiptSigner;
      return signer && stack.workerCertificate ? { ...signer, certificate: stack.workerCertificate } : signer;
    },
    clock: () => Date.now() + stack.workerSkewMs,
    log: () => undefined,
  });

  const router = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    stack.calls.push(`${method} ${url}`);
    if (typeof init?.body === 'string') stack.wire.push(init.body);
    const origin = new URL(url).origin;
    // `return await`: a rejection adopted a microtask late is reported as unhandled by workerd.
    if (origin === SERVICE) return await toService(url, init);
    const mode = stack.modes[origin];
    if (mode === undefined) throw new TypeError(`test network: no host ${origin}`);
    if (mode === 'down') throw new TypeError('connection refused (test: worker down)');
    if (mode === 'busy') {
      return Response.json(
        { error: { message: 'busy', type: 'server_error', param: null, code: 'not_ready' } },
        { status: 503 },
      );
    }
    if (mode === 'hang') {
      const signal = init?.signal;
      return await new Promise<Response>((_, reject) => {
        if (!signal) return; // no signal: the caller waits forever, which a test would show
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    if (mode === 'replay-refused' && method === 'POST') {
      const refusal = new SealgateError(
        'replay_detected',
        'sealed request: sealed before this process started',
      );
      return answerResponse(failureAnswer(refusal, () => undefined, 'sealed request'));
    }
    if (mode === 'huge-models' && new URL(url).pathname === '/v1/models') {
      const data = Array.from({ length: 20_000 }, (_, i) => ({
        id: `m-${i}-${'x'.repeat(40)}`,
        object: 'model',
      }));
      return Response.json({ object: 'list', data });
    }
    if (mode === 'stall-models' && new URL(url).pathname === '/v1/models') return stalledModelList();
    const res = await workerApp.request(url, init);
    if (!res.ok || mode === 'ok') return res;
    if (mode === 'replay-answer') {
      // Answer with the previous request's authentic answer; remember this one for the next.
      const text = await res.text();
      const earlier = lastAnswer ?? text;
      lastAnswer = text;
      const headers = new Headers(res.headers);
      headers.delete('content-length');
      return new Response(earlier, { status: res.status, headers });
    }
    return breakAnswer(res, mode, stack);
  };
  let lastAnswer: string | undefined;
  vi.stubGlobal('fetch', router);
  return stack;
}

/**
 * `model`, except that a request is answered with `stack.modelStream` or `stack.modelJson` when set
 * — as a model server's chat completion: a Messages or Responses request is translated to chat
 * and back (src/model/api-routes.ts) around the scripted answer, as around a real server's.
 */
function scriptedStreams(model: ModelBackend, stack: Stack): ModelBackend {
  const scripted = withApiRoutes({
    description: model.description,
    listModels: (signal) => model.listModels(signal),
    servesModel: (id) => model.servesModel(id),
    async call(route, call) {
      if (stack.modelServer !== undefined) return await modelServer(stack.modelServer).call(route, call);
      const json = stack.modelJson;
      if (json !== undefined && call.body.stream !== true) {
        return { kind: 'json', body: keepExactNumbers(JSON.parse(json), json) as Record<string, unknown> };
      }
      const events = stack.modelStream;
      if (events === undefined || call.body.stream !== true) return model.call(route, call);
      const hangs = stack.modelStreamHangs;
      const pause = stack.modelStreamPause;
      return {
        kind: 'stream',
        events: (async function* () {
          if (pause) {
            yield* events.slice(0, 1);
            await pause;
            yield* events.slice(1);
          } else yield* events;
          if (hangs) await untilAborted(call.signal);
        })(),
      };
    },
  });
  return {
    ...scripted,
    async call(route, call) {
      stack.modelBodies.push(call.body);
      return await scripted.call(route, call);
    },
  };
}

/** Resolves when `signal` aborts (never without one). */
function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
}

/** A model server (src/model/upstream.ts) that answers `answer`, or cannot be reached. */
function modelServer(answer: NonNullable<Stack['modelServer']>): ModelBackend {
  return createUpstreamModel({
    baseUrl: 'http://model.test',
    fetch: async () => {
      if (answer === 'unreachable') throw new TypeError('connection refused (test: model server down)');
      if (typeof answer.body !== 'string') return Response.json(answer.body, { status: answer.status });
      return new Response(answer.body, {
        status: answer.status,
        headers: { 'content-type': 'text/event-stream' },
      });
    },
  });
}

/** 200, a JSON head and the first half of a model list, then a body that never ends. */
function stalledModelList(): Response {
  const half = '{"object":"list","data":[{"id":"stalled-model","object":"model"},';
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(half));
    },
    // pull() is not called again until the first chunk is read; after that it never settles.
    pull: () => new Promise<void>(() => undefined),
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
}

/** Flips one character of a base64url ciphertext (still canonical base64url, no longer authentic). */
export function flip(ct: string): string {
  const i = Math.floor(ct.length / 2);
  return `${ct.slice(0, i)}${ct[i] === 'A' ? 'B' : 'A'}${ct.slice(i + 1)}`;
}

async function breakAnswer(res: Response, mode: WorkerMode, stack: Stack): Promise<Response> {
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  if (mode === 'sse-typed-stream') {
    headers.set('content-type', 'text/event-stream; charset=utf-8');
    return new Response(res.body, { status: res.status, headers });
  }
  if (mode === 'trickle-stream' || mode === 'counted-stream' || mode === 'after-trailer') {
    let bytes = new Uint8Array(await res.arrayBuffer());
    if (mode === 'after-trailer') {
      // A data record after the trailer: its head and 17 bytes (several 7-byte reads).
      bytes = new Uint8Array([...bytes, 0, 0, 0, 0, 17, ...new Uint8Array(17)]);
    }
    let at = 0;
    const counted = { reads: 0, total: Math.ceil(bytes.length / 7), cancelled: false };
    if (mode !== 'trickle-stream') stack.body = counted;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (at >= bytes.length) return c.close();
          counted.reads++;
          c.enqueue(bytes.slice(at, at + 7));
          at += 7;
        },
        cancel() {
          counted.cancelled = true;
        },
      },
      // Nothing read ahead on this side: `reads` is what the gateway asked for.
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, headers });
  }
  if (mode === 'swap-certificate') {
    headers.set('x-sealgate-worker-certificate', stack.swapCertificate);
    return new Response(res.body, { status: res.status, headers });
  }
  if (mode === 'no-certificate') {
    headers.delete('x-sealgate-worker-certificate');
    return new Response(res.body, { status: res.status, headers });
  }
  if (mode === 'tamper-receipt' || mode === 'no-receipt') {
    const receipt = headers.get('x-sealgate-receipt') ?? '';
    if (mode === 'no-receipt') headers.delete('x-sealgate-receipt');
    else headers.set('x-sealgate-receipt', flip(receipt));
    return new Response(res.body, { status: res.status, headers });
  }
  if (mode === 'tamper-json') {
    const body = JSON.parse(await res.text()) as { sealgate: { ct: string } };
    body.sealgate.ct = flip(body.sealgate.ct);
    return new Response(JSON.stringify(body), { status: res.status, headers });
  }
  // A sealed stream (format 3): the header, then records (the last one the receipt trailer).
  const { header, records } = streamRecords(new Uint8Array(await res.arrayBuffer()));
  const send = (...parts: Uint8Array[]) =>
    new Response(concatBytes(header, ...parts) as Uint8Array<ArrayBuffer>, { status: res.status, headers });
  if (mode === 'truncate-stream') {
    // Every data record (OpenAI's [DONE] included) authentic, the end record and trailer missing.
    return send(...records.slice(0, -2));
  }
  if (mode === 'drop-trailer') return send(...records.slice(0, -1));
  if (mode === 'tamper-trailer') {
    const jws = new TextDecoder().decode(records.at(-1)!.subarray(5));
    return send(...records.slice(0, -1), receiptRecord(flip(jws)));
  }
  if (mode === 'reorder-stream') {
    [records[1], records[2]] = [records[2]!, records[1]!];
    return send(...records);
  }
  if (mode === 'huge-frame') {
    // The second record announces (and carries) 2 MiB: over the cap, refused from its head.
    const huge = new Uint8Array(5 + 2 * 1024 * 1024);
    new DataView(huge.buffer).setUint32(1, huge.length - 5);
    return send(records[0]!, huge, ...records.slice(2));
  }
  // tamper-stream: one bit of the second record's ciphertext flipped.
  const second = Uint8Array.from(records[1]!);
  second[5]! ^= 1;
  return send(records[0]!, second, ...records.slice(2));
}

/** A sealed stream body split into its 36-byte header and its records (head and payload each). */
function streamRecords(body: Uint8Array): { header: Uint8Array; records: Uint8Array[] } {
  const records: Uint8Array[] = [];
  for (let at = 36; at < body.length; ) {
    const length = new DataView(body.buffer, body.byteOffset + at + 1).getUint32(0);
    records.push(body.subarray(at, at + 5 + length));
    at += 5 + length;
  }
  return { header: body.subarray(0, 36), records };
}

/** Runs `body` and returns every string body the global fetch was given meanwhile (what was sent). */
export async function bodiesSentDuring(body: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const inner = globalThis.fetch;
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    if (typeof init?.body === 'string') seen.push(init.body);
    return inner(input, init);
  });
  try {
    await body();
  } finally {
    vi.stubGlobal('fetch', inner);
  }
  return seen;
}

/** The sealed requests the gateway sent to a worker, as "POST url" (`Stack.calls`). */
export const workerPosts = (stack: Stack): string[] =>
  stack.calls.filter((c) => c.startsWith('POST http://worker'));

/** The JSON object `data:` payloads of an SSE text, parsed. */
export const sseObjects = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);

/** SSE `data:` payloads of a gateway answer. */
export async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((e) => e.length > 0)
    .map((e) =>
      e
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n'),
    );
}

/** The key-rotation DO of `digest` emptied, without a pending alarm, whatever ran before in this miniflare. */
export async function emptyRotationDo(digest: string): Promise<void> {
  const ns = env.KEY_ROTATION;
  await runInDurableObject(
    ns.get(ns.idFromName(digest)) as never,
    async (_i, state: { storage: { deleteAlarm(): Promise<void>; deleteAll(): Promise<void> } }) => {
      await state.storage.deleteAlarm();
      await state.storage.deleteAll();
    },
  );
}
