/**
 * The model call over `node:http` / `node:https` (Node only), for the AI worker: the subset of
 * `fetch` that `upstream.ts` uses (`ModelFetch`), without undici's fetch machinery, which costs
 * more CPU per request than the rest of the model call (docs/benchmarks.md "Reading the figures"):
 * a WHATWG Request and Response per call, header lists converted and validated
 * through WebIDL, the body written as an async iterable, the answer teed through a fetch
 * controller. Here the request goes out as one write on a keep-alive connection and the answer's
 * body is a byte stream fed straight from the socket, paused while nobody reads it.
 *
 * Same contract as fetch for `upstream.ts`: it rejects when no answer head arrives (connection
 * refused, reset, or the signal aborts); an answer's body stream errors when the connection breaks
 * off before the end of the body (a short body is never passed as a whole one: Node checks
 * Content-Length and chunked framing) or when the signal aborts. Differences, on purpose: redirects
 * are not followed (an answer 3xx is not ok, so the model call fails as `model_error`: a model
 * server that redirects is misconfigured, and following it would send the prompt elsewhere), and
 * no `Accept-Encoding` is sent — a gzip, deflate or br body is still decoded, any other coding errors.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { ModelFetch, ModelFetchInit, ModelFetchResponse } from './upstream.js';

export interface NodeHttpFetchOptions {
  /** Connections kept open per origin (idle ones are reused). Default 64. */
  maxSockets?: number;
}

/** A `ModelFetch` with its own keep-alive agents; `close()` drops their idle connections. */
export function createNodeHttpFetch(options: NodeHttpFetchOptions = {}): ModelFetch & { close(): void } {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  const http = new HttpAgent(agentOptions);
  const https = new HttpsAgent(agentOptions);
  const fetchImpl = (url: string, init: ModelFetchInit) =>
    send(
      new URL(url),
      init,
      url.startsWith('https:')
        ? { request: httpsRequest, agent: https }
        : { request: httpRequest, agent: http },
    );
  return Object.assign(fetchImpl, {
    close: () => {
      http.destroy();
      https.destroy();
    },
  });
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function send(
  url: URL,
  init: ModelFetchInit,
  via: { request: typeof httpRequest; agent: HttpAgent },
): Promise<ModelFetchResponse> {
  const { signal } = init;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  // A string body stays a string: node:http joins head and body into one string
  // (OutgoingMessage#_send) encoded once, straight into the socket's write — no Buffer copy of the
  // body first, no two-part writev.
  const body = init.body === undefined || typeof init.body === 'string' ? init.body : Buffer.from(init.body);
  const headers: Record<string, string> = { ...init.headers };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise<ModelFetchResponse>((resolve, reject) => {
    let settled = false;
    let onAbortBody: ((e: unknown) => void) | undefined;
    // Methods, not arrow functions: tsx (esbuild keepNames) names every arrow function made per
    // call with an Object.defineProperty (~0.4 µs each); method shorthand is left alone.
    const link = {
      onAbort() {
        const e = abortError(signal!);
        req.destroy(e instanceof Error ? e : new Error('aborted'));
        if (!settled) {
          settled = true;
          reject(e);
        }
        onAbortBody?.(e);
      },
    };
    const { onAbort } = link;
    const req = via.request(
      url,
      { method: init.method, headers, agent: via.agent, ...(signal ? {} : {}) },
      (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        const status = res.statusCode ?? 0;
        const answer = responseOf(
          res,
          status,
          (abortBody) => {
            onAbortBody = abortBody;
          },
          () => signal?.removeEventListener('abort', onAbort),
        );
        resolve(answer);
      },
    );
    req.on('error', (e) => {
      if (!settled) {
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      }
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}

function responseOf(
  res: IncomingMessage,
  status: number,
  setAbort: (abort: (e: unknown) => void) => void,
  release: () => void,
): ModelFetchResponse {
  // Methods, not arrow functions (tsx names each arrow function made per call: see send()).
  const headers = {
    get(name: string): string | null {
      const v = res.headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };
  const { get } = headers;
  // RFC 9110 §6.4.1: no content for HEAD, 1xx, 204, 304.
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  let decoded: Readable = res;
  let bodyError: Error | undefined;
  const coding = (get('content-encoding') ?? '').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity') {
    const decoder =
      coding === 'gzip' || coding === 'x-gzip'
        ? createGunzip()
        : coding === 'deflate'
          ? createInflate()
          : coding === 'br'
            ? createBrotliDecompress()
            : undefined;
    if (decoder) {
      res.on('error', (e) => decoder.destroy(e));
      res.pipe(decoder);
      decoded = decoder;
    } else {
      bodyError = new Error(`unsupported content-encoding ${coding}`);
    }
  }
  if (noBody) {
    res.resume();
    release();
  }
  const bodySource: BodySource = { res, source: decoded, initialError: bodyError, setAbort, release };
  // One reader of the body: the WHATWG stream (made when first asked for) or readAll.
  let taken: 'stream' | 'all' | undefined;
  let stream: ReadableStream<Uint8Array> | null = null;
  const reader = {
    take(as: 'stream' | 'all') {
      if (taken !== undefined && taken !== as) throw new TypeError('model answer body already read');
      taken = as;
    },
  };
  const { take } = reader;
  return {
    ok: status >= 200 && status < 300,
    status,
    headers,
    get body() {
      if (noBody) return null;
      take('stream');
      stream ??= byteStream(bodySource);
      return stream;
    },
    readAll(max: number) {
      take('all');
      if (noBody) return Promise.resolve(new Uint8Array(0));
      return readWhole(bodySource, max);
    },
  };
}

/** An answer's body as it comes off the socket (decoded), and what every reader of it must do. */
interface BodySource {
  res: IncomingMessage;
  source: Readable;
  /** Set: the body cannot be read (an unsupported content-encoding). */
  initialError: Error | undefined;
  setAbort: (abort: (e: unknown) => void) => void;
  release: () => void;
}

/**
 * Hands each chunk to `onData`, then calls `onEnd`; calls `fail` on a decoding or connection error,
 * on the connection closing before the body's end, on the signal aborting, or at once for a body
 * that cannot be read. The reader ignores whatever comes after its own finish.
 */
function watchBody(
  b: BodySource,
  onData: (chunk: Buffer) => void,
  onEnd: () => void,
  fail: (e: unknown) => void,
): void {
  if (b.initialError) {
    fail(b.initialError);
    return;
  }
  b.setAbort(fail);
  b.source.on('data', onData);
  b.source.on('end', onEnd);
  b.source.on('error', fail);
  // A connection that closes before the body's end (no 'end'): the body broke off.
  b.res.on('close', () => {
    if (!b.res.complete) fail(new Error('model server connection closed before the end of the answer'));
  });
}

/**
 * The whole body straight from the socket (no WHATWG stream: a JSON answer is read in one go), or
 * null once more than `max` bytes arrived (the connection is then closed). Rejects as `byteStream`
 * errors: the connection closing before the body's end, a decoding error, the signal aborting.
 */
function readWhole(b: BodySource, max: number): Promise<Uint8Array | null> {
  return new Promise<Uint8Array | null>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let finished = false;
    // A method, not an arrow function (tsx names each arrow function made per call: see send()).
    const end = {
      finish(e: unknown, value: Uint8Array | null = null) {
        if (finished) return;
        finished = true;
        b.release();
        if (e !== undefined || value === null) b.res.destroy();
        if (e !== undefined) reject(e);
        else resolve(value);
      },
    };
    const { finish } = end;
    watchBody(
      b,
      (chunk) => {
        if (finished) return;
        size += chunk.byteLength;
        if (size > max) return finish(undefined, null);
        parts.push(chunk);
      },
      () => {
        const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
        finish(undefined, new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
      },
      (e) => finish(e),
    );
  });
}

/**
 * The body as a WHATWG byte stream fed from the socket: a chunk is handed on as it arrives, the
 * socket paused while one waits unread (highWaterMark 1 chunk). The stream errors if the
 * connection closes before the body's end or the signal aborts, and cancelling it closes the connection.
 */
function byteStream(b: BodySource): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const finish = (e?: unknown) => {
          if (finished) return;
          finished = true;
          b.release();
          if (e === undefined) controller.close();
          else {
            controller.error(e);
            b.res.destroy();
          }
        };
        watchBody(
          b,
          (chunk) => {
            if (finished) return;
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            if ((controller.desiredSize ?? 0) <= 0) b.source.pause();
          },
          () => finish(),
          (e) => finish(e),
        );
      },
      pull() {
        if (!finished) b.source.resume();
      },
      cancel() {
        if (finished) return;
        finished = true;
        b.release();
        b.res.destroy();
      },
    },
    { highWaterMark: 1 },
  );
}
