/**
 * An OpenAI-compatible model server as the worker's model: vLLM, Ollama, llama.cpp's server, or
 * OpenAI itself — anything that serves `POST /v1/chat/completions`, `/v1/completions`,
 * `/v1/embeddings` and `GET /v1/models` (OpenAI API reference). The opened request body is forwarded
 * as it is; nothing of the incoming HTTP request (headers, client address) is.
 *
 * MODEL_URL is the server's origin, with or without a trailing `/v1` (`http://127.0.0.1:8000`,
 * `http://127.0.0.1:11434/v1` and `https://api.openai.com/v1` all work): requests go to
 * `{origin}/v1/...`. MODEL_API_KEY, when set, is sent as `Authorization: Bearer …` (RFC 6750 §2.1).
 *
 * Streams are passed through event by event as the server produces them (SSE parsed per WHATWG HTML
 * §9.2, `sse.ts`); the `[DONE]` payload is the only proper end (on Messages `message_stop`, on
 * Responses `response.completed`: src/api/stream-end.ts), so a server that stops without it,
 * sends an `event: error`, or a `data:` object with an `error` member, fails the stream
 * (`model_error`) — and the worker then ends the sealed stream without its end frame.
 *
 * `/v1/messages` and `/v1/responses` go to the server as they are when it speaks them
 * (`nativeRoutes`, MODEL_NATIVE_APIS), else translated to chat completions (api-routes.ts); a
 * transcription's sealed multipart body is forwarded byte for byte under its own Content-Type.
 *
 * Errors: `fetch_failed` (→ HTTP `upstream_unavailable`) when the server cannot be reached;
 * `model_error` when it does not answer a model call in time (`timeoutCode`); `invalid_argument` (→ `invalid_request`) when it refuses the request as
 * malformed (400, 413, 422); `model_not_found` (→ 404) when it answers 404 — OpenAI, vLLM and
 * Ollama all answer an unknown model so, and the route is one every such server serves;
 * `model_error` for any other failure. The server's own error message (server-error.ts) goes with
 * the error as its `clientMessage`: the worker seals it to the client (docs/protocol.md "Sealed
 * error answer") and never logs it — it may quote the prompt.
 */

import { streamStep } from '../api/stream-end.js';
import { readSealedForm } from '../api/transcriptions/form.js';
import { type ErrorCode, SealgateError } from '../errors.js';
import { readLimited } from '../http/read-limited.js';
import { keepExactNumbers } from '../json/exact-numbers.js';
import { isJsonObject, isRecord } from '../json/object-guards.js';
import { normalizeModelEndpoint } from '../policy/model-endpoint.js';
import { withApiRoutes } from './api-routes.js';
import { MAX_ERROR_BODY_BYTES, serverErrorMessage, serverErrorText } from './server-error.js';
import { parseSseBatches, type SseEvent } from './sse.js';
import type {
  ModelAnswer,
  ModelBackend,
  ModelCall,
  ModelInfo,
  ModelRoute,
  TranslatableRoute,
} from './types.js';

/**
 * The part of `fetch` this module uses: the global `fetch` is one; the AI worker passes a leaner one
 * over `node:http` (node-http-fetch.ts).
 */
export type ModelFetch = (url: string, init: ModelFetchInit) => Promise<ModelFetchResponse>;

export interface ModelFetchInit {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  signal?: AbortSignal;
}

export interface ModelFetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
  /**
   * Optional, instead of `body` (one or the other): the whole body, or null as soon as it is known
   * to exceed `max` bytes (the connection is then dropped); rejects as `body` errors (a connection
   * cut before the body's end, an abort). node-http-fetch.ts reads the socket straight into it,
   * without a WHATWG stream per answer.
   */
  readAll?(max: number): Promise<Uint8Array | null>;
}

export interface UpstreamModelOptions {
  /** MODEL_URL: http(s) origin of the model server, optionally ending in `/v1`. */
  baseUrl: string;
  /** MODEL_API_KEY. */
  apiKey?: string;
  /** Default: the global `fetch`. */
  fetch?: ModelFetch;
  /** Time until the answer's head arrives, and for a non-streamed answer its whole body. Default 600 s. */
  requestTimeoutMs?: number;
  /** Longest silence allowed between two stream events. Default 120 s. */
  idleTimeoutMs?: number;
  /** Largest non-streamed answer read (bytes). Default 64 MiB. */
  maxResponseBytes?: number;
  /**
   * MODEL_NATIVE_APIS: the routes the server answers itself (`/v1/messages` for a server that
   * speaks Anthropic's Messages API, `/v1/responses`); the others are translated to chat completions.
   */
  nativeRoutes?: readonly TranslatableRoute[];
}

const REFUSED_AS_INVALID = new Set([400, 413, 422]);

/**
 * `http://host:port/v1/` → `http://host:port`; anything but an http(s) URL is refused. The same
 * normalization the worker's attested configuration records (src/policy/model-endpoint.ts), so the
 * text the worker connects to is the text its evidence binds.
 */
export const modelOrigin = (baseUrl: string): string => normalizeModelEndpoint(baseUrl);

/** The settled options every request of one upstream model uses. */
interface Upstream {
  origin: string;
  fetch: ModelFetch;
  apiKey: string | undefined;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxBytes: number;
}

type SendInit = Omit<ModelFetchInit, 'signal'>;

/**
 * A request whose head arrived with 2xx; `done()` must be called once its body is consumed —
 * `done(true)` when it was read to its end, which needs no abort to release the connection.
 */
interface Sent {
  response: ModelFetchResponse;
  controller: AbortController;
  state: { timedOut: boolean };
  clearDeadline: () => void;
  done: (bodyRead?: boolean) => void;
}

/**
 * The abort reason once a call is over, made once: `abort()` without a reason constructs a
 * DOMException on every call (profile: ~0.05 ms/request). Only a body still unread ever sees it.
 */
const CALL_OVER = new Error('model call over');

interface OpenedStream {
  route: string;
  body: ReadableStream<Uint8Array>;
  done: () => void;
  controller: AbortController;
}

export function createUpstreamModel(options: UpstreamModelOptions): ModelBackend {
  const up: Upstream = {
    origin: modelOrigin(options.baseUrl),
    fetch: options.fetch ?? ((url, init) => fetch(url, init)),
    apiKey: options.apiKey,
    requestTimeoutMs: options.requestTimeoutMs ?? 600_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
    maxBytes: options.maxResponseBytes ?? 64 * 1024 * 1024,
  };
  return withApiRoutes(
    {
      description: `upstream ${up.origin}`,
      servesModel: () => undefined,
      listModels: (signal) => listModels(up, signal),
      call: (route, call) => callModel(up, route, call),
    },
    new Set(options.nativeRoutes ?? []),
  );
}

function headers(up: Upstream, accept: string): Record<string, string> {
  return { accept, ...(up.apiKey ? { authorization: `Bearer ${up.apiKey}` } : {}) };
}

async function listModels(up: Upstream, signal: AbortSignal | undefined) {
  const value = await readJson(
    up,
    '/v1/models',
    { method: 'GET', headers: headers(up, 'application/json') },
    signal,
  );
  if (!Array.isArray(value.data)) throw new SealgateError('model_error', 'model list has no data array');
  const data: ModelInfo[] = value.data.map((m: unknown) => {
    const e = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
    if (typeof e.id !== 'string' || e.id.length === 0) {
      throw new SealgateError('model_error', 'model list entry without an id');
    }
    return {
      id: e.id,
      object: 'model',
      created: typeof e.created === 'number' && Number.isSafeInteger(e.created) ? e.created : 0,
      owned_by: typeof e.owned_by === 'string' ? e.owned_by : 'upstream',
    };
  });
  return { object: 'list' as const, data };
}

async function callModel(up: Upstream, route: ModelRoute, call: ModelCall): Promise<ModelAnswer> {
  if (route === '/v1/audio/transcriptions') return { kind: 'json', body: await transcribe(up, call) };
  if (call.body.stream === true) {
    const opened = await openStream(up, route, call.body, call.signal);
    const batches = streamBatches(up, opened, call.signal);
    return { kind: 'stream', events: flatten(batches), batches };
  }
  const body = await readJson(
    up,
    route,
    {
      method: 'POST',
      headers: { ...headers(up, 'application/json'), 'content-type': 'application/json' },
      body: JSON.stringify(call.body),
    },
    call.signal,
  );
  if (body.error !== undefined && body.error !== null) throw answeredError(body);
  return { kind: 'json', body };
}

/** The sealed multipart body, forwarded byte for byte under its own Content-Type. */
async function transcribe(up: Upstream, call: ModelCall): Promise<Record<string, unknown>> {
  const form = readSealedForm(call.body);
  const body = await readJson(
    up,
    '/v1/audio/transcriptions',
    {
      method: 'POST',
      headers: { ...headers(up, 'application/json'), 'content-type': form.contentType },
      body: form.bytes,
    },
    call.signal,
  );
  if (body.error !== undefined && body.error !== null) throw answeredError(body);
  return body;
}

/** Sends one request under the request deadline; refuses any status but 2xx. */
async function send(
  up: Upstream,
  path: string,
  init: SendInit,
  signal: AbortSignal | undefined,
): Promise<Sent> {
  const controller = new AbortController();
  const state = { timedOut: false };
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Methods, not arrow functions: under tsx (esbuild keepNames) every arrow function made per call
  // is named with an Object.defineProperty (~0.4 µs each); method shorthand is left alone. None
  // uses `this`: they are handed on detached.
  const call = {
    onAbort() {
      controller.abort(signal?.reason);
    },
    clearDeadline() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    done(bodyRead = false) {
      call.clearDeadline();
      signal?.removeEventListener('abort', call.onAbort);
      // A body read to its end has already given its connection back (node:http and fetch alike);
      // any other is aborted, which releases the connection.
      if (!bodyRead) controller.abort(CALL_OVER);
    },
  };
  const { clearDeadline, done } = call;
  signal?.addEventListener('abort', call.onAbort, { once: true });
  if (signal?.aborted) controller.abort(signal.reason);
  timer = setTimeout(() => {
    state.timedOut = true;
    controller.abort();
  }, up.requestTimeoutMs);
  let response: ModelFetchResponse;
  try {
    response = await up.fetch(`${up.origin}${path}`, { ...init, signal: controller.signal });
  } catch (cause) {
    done();
    const why = state.timedOut ? 'timeout' : signal?.aborted ? 'cancelled' : 'unreachable';
    const message =
      why === 'timeout'
        ? `model server did not answer within ${up.requestTimeoutMs} ms`
        : why === 'cancelled'
          ? 'model request cancelled'
          : 'cannot reach the model server';
    // `why` in the detail: the log leaves out a message that is also the client's (log.ts errorDetail).
    throw new SealgateError(
      why === 'timeout' ? timeoutCode(init) : 'fetch_failed',
      message,
      { url: `${up.origin}${path}`, why },
      { cause, clientMessage: message },
    );
  }
  if (!response.ok) {
    const message = await errorMessageOf(response);
    done();
    throw refused(response.status, message);
  }
  return { response, controller, state, clearDeadline, done };
}

/**
 * The server's own message in an error answer (server-error.ts), read under the call's deadline: a
 * body that does not come, or is too long, has none (and is cancelled).
 */
async function errorMessageOf(response: ModelFetchResponse): Promise<string | undefined> {
  try {
    return serverErrorText(await readLimitedText(response, MAX_ERROR_BODY_BYTES));
  } catch {
    try {
      await response.body?.cancel();
    } catch {
      // already read, or already failed: nothing left to release
    }
    return undefined;
  }
}

/**
 * The code of a request that ran out of time. A model call (POST) the server did not answer in
 * `requestTimeoutMs` is `model_error`, not `fetch_failed`: the server took it and may have run the
 * model all that time, so the gateway must not run it again on the next worker (it retries a sealed
 * `upstream_unavailable`, not a `model_error`: docs/gateway.md "The sealed path"); the client's own
 * retry policy decides. A GET (the model list) runs no model: `fetch_failed`, as unreachable.
 */
function timeoutCode(init: SendInit): ErrorCode {
  return init.method === 'POST' ? 'model_error' : 'fetch_failed';
}

/**
 * A non-2xx answer: 400, 413 and 422 say the request was malformed, 404 that the model is unknown;
 * anything else is the server's failure.
 */
function refused(status: number, serverMessage: string | undefined): SealgateError {
  const [code, message]: [ErrorCode, string] =
    status === 404
      ? ['model_not_found', 'model server does not know the model (HTTP 404)']
      : REFUSED_AS_INVALID.has(status)
        ? ['invalid_argument', `model server refused the request (HTTP ${status})`]
        : ['model_error', `model server answered HTTP ${status}`];
  return new SealgateError(code, message, { status }, { clientMessage: serverMessage ?? message });
}

/** A 200 answer with an `error` member: the server's failure, its message for the client. */
function answeredError(body: Record<string, unknown>): SealgateError {
  const message = 'model server answered an error';
  return new SealgateError('model_error', message, undefined, {
    clientMessage: serverErrorMessage(body) ?? message,
  });
}

/** The whole answer, at most `maxBytes`, read before the request deadline: a JSON object. */
async function readJson(up: Upstream, path: string, init: SendInit, signal?: AbortSignal) {
  const { response, state, done } = await send(up, path, init, signal);
  let bodyRead = false;
  try {
    const text = await readLimitedText(response, up.maxBytes);
    bodyRead = true;
    let value: unknown;
    try {
      // Sealed and written on to the client: numbers beyond 2^53 stay as written (json/exact-numbers.ts).
      value = keepExactNumbers(JSON.parse(text), text);
    } catch {
      throw new SealgateError('model_error', 'model server answer is not JSON');
    }
    // A kept number (json/exact-numbers.ts) is an object to `typeof`: isJsonObject, not isRecord.
    if (!isJsonObject(value)) {
      throw new SealgateError('model_error', 'model server answer is not a JSON object');
    }
    return value;
  } catch (e) {
    if (e instanceof SealgateError) throw e;
    throw new SealgateError(
      state.timedOut ? timeoutCode(init) : 'model_error',
      state.timedOut
        ? `model server did not answer within ${up.requestTimeoutMs} ms`
        : 'model server answer broke off',
      undefined,
      { cause: e },
    );
  } finally {
    done(bodyRead);
  }
}

/** Opens an SSE answer: the head must say text/event-stream; from here on only the idle deadline runs. */
async function openStream(
  up: Upstream,
  path: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<OpenedStream> {
  const sent = await send(
    up,
    path,
    {
      method: 'POST',
      headers: { ...headers(up, 'text/event-stream'), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    },
    signal,
  );
  const type = sent.response.headers.get('content-type') ?? '';
  if (!/^text\/event-stream\b/i.test(type) || !sent.response.body) {
    sent.done();
    await sent.response.body?.cancel().catch(() => undefined);
    throw new SealgateError('model_error', 'model server did not answer the stream as text/event-stream');
  }
  sent.clearDeadline();
  return { route: path, body: sent.response.body, done: sent.done, controller: sent.controller };
}

/** `streamBatches` an event at a time. */
async function* flatten(batches: AsyncIterable<readonly string[]>): AsyncGenerator<string> {
  for await (const batch of batches) yield* batch;
}

/**
 * The stream's `data:` payloads up to and including the route's final event (stream-end.ts), the
 * events of each network read together. An event that fails the checks ends the stream with its
 * error right after the events of its read that came before it (they are yielded first).
 */
async function* streamBatches(
  up: Upstream,
  opened: OpenedStream,
  signal?: AbortSignal,
): AsyncGenerator<string[]> {
  // A network read's events at a time: one generator step per read, not two per event.
  const batches = parseSseBatches(opened.body)[Symbol.asyncIterator]();
  let idle = false;
  let first = true;
  const watch = idleWatch(up.idleTimeoutMs, () => {
    idle = true;
    opened.controller.abort();
  });
  try {
    for (;;) {
      // The idle deadline runs only while we wait for the server, not while our reader is slow.
      let next: IteratorResult<SseEvent[]>;
      watch.waiting();
      try {
        next = await batches.next();
      } catch (cause) {
        const message = idle
          ? `model server stream idle for ${up.idleTimeoutMs} ms`
          : signal?.aborted
            ? 'model request cancelled'
            : 'model server stream broke off';
        throw new SealgateError('model_error', message, undefined, { cause });
      } finally {
        watch.received();
      }
      if (next.done) {
        const end = TYPED_STREAMS.has(opened.route) ? 'its end event' : '[DONE]';
        throw new SealgateError('model_error', `model server stream ended without ${end}`);
      }
      // Time to first chunk: the stream's first event is checked and handed on alone, before the
      // rest of its read (often the whole answer) is checked.
      const events = next.value;
      let at = 0;
      while (at < events.length) {
        const out: string[] = [];
        const taken = takeEvents(opened.route, events, at, out, first ? 1 : events.length);
        if (out.length > 0) {
          first = false;
          yield out;
        }
        if (taken.step === 'end') return;
        if (taken.step !== 'more') throw taken.step;
        at = taken.next;
      }
    }
  } finally {
    watch.stop();
    await batches.return?.(undefined).catch(() => undefined);
    opened.done();
  }
}

/**
 * A stream's idle deadline: `onIdle` runs once a single wait for the server (`waiting()` until
 * `received()`) has lasted `ms`. One timer for the whole stream rather than one per event: when it
 * fires early — the stream is not waiting, or its current wait began later — it is armed again
 * for what is left (Node: a setTimeout and a clearTimeout per event cost ~0.1 ms per 56-event answer).
 */
function idleWatch(ms: number, onIdle: () => void) {
  let since: number | null = null; // when the current wait began; null while not waiting
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const check = () => {
    timer = undefined;
    if (since === null || stopped) return; // re-armed by the next wait
    const left = since + ms - Date.now();
    if (left <= 0) onIdle();
    else timer = setTimeout(check, left);
  };
  return {
    waiting() {
      since = Date.now();
      if (timer === undefined && !stopped) timer = setTimeout(check, ms);
    },
    received() {
      since = null;
    },
    stop() {
      stopped = true;
      since = null;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * Checks a read's events in order from `from`, appending the ones to pass on to `out` until `max`
 * were: step 'end' after the route's final event (included), the error of the first event that
 * fails, else 'more' with `next` the index to go on from (the read's length once all were checked).
 */
function takeEvents(
  route: string,
  events: readonly SseEvent[],
  from: number,
  out: string[],
  max: number,
): { step: 'end' | 'more' | SealgateError; next: number } {
  let i = from;
  while (i < events.length && out.length < max) {
    const { type, data } = events[i++]!;
    if (type === 'error') return { step: inBandError(data, 'model server sent an error event'), next: i };
    if (type === 'ping') continue; // Anthropic's keep-alive (Messages API, "Streaming")
    // OpenAI's chat stream has unnamed events only; Messages and Responses name each by its type.
    if (type !== 'message' && !TYPED_STREAMS.has(route)) continue;
    const step = streamStep(route, data);
    if (step === 'fail')
      return { step: inBandError(data, 'model server reported an error mid-stream'), next: i };
    if (step === 'end') {
      out.push(data);
      return { step: 'end', next: i };
    }
    const bad = chunkProblem(data);
    if (bad) return { step: bad, next: i };
    out.push(data);
  }
  return { step: 'more', next: i };
}

/** The routes whose streams name each event by its `type` and end without `[DONE]`. */
const TYPED_STREAMS: ReadonlySet<string> = new Set(['/v1/messages', '/v1/responses']);

/** A stream payload must be an OpenAI chunk: a JSON object, and not an in-band error. */
function chunkProblem(data: string): SealgateError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return new SealgateError('model_error', 'model server stream event is not JSON');
  }
  if (!isRecord(value)) {
    return new SealgateError('model_error', 'model server stream event is not a JSON object');
  }
  const v = value as Record<string, unknown>;
  // vLLM and OpenAI report a failure mid-stream as a data object with `error` (older vLLM: object "error").
  if ((v.error !== undefined && v.error !== null) || v.object === 'error') {
    return inBandError(data, 'model server reported an error mid-stream');
  }
  return undefined;
}

/**
 * A model server's error inside its stream: `model_error`, with the server's own message as the
 * client's (`clientMessage`: sealed to the client in the stream's error frame, never logged).
 */
function inBandError(data: string, message: string): SealgateError {
  let text: string | undefined;
  try {
    text = serverErrorMessage(JSON.parse(data));
  } catch {
    text = undefined;
  }
  return new SealgateError('model_error', message, undefined, text ? { clientMessage: text } : undefined);
}

/** Stateless between calls (no `stream: true`): one decoder for every answer. */
const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true });

async function readLimitedText(response: ModelFetchResponse, max: number): Promise<string> {
  const length = response.headers.get('content-length');
  const all =
    response.readAll && !(Number(length ?? Number.NaN) > max)
      ? await response.readAll(max)
      : await readLimited(response.body, length, max);
  if (all === null) throw new SealgateError('model_error', `model server answer exceeds ${max} bytes`);
  try {
    return FATAL_UTF8.decode(all);
  } catch {
    throw new SealgateError('model_error', 'model server answer is not UTF-8');
  }
}
