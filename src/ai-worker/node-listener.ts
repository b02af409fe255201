/**
 * The AI worker's `node:http` request listener: the sealed routes (`POST` on exactly one of
 * MODEL_ROUTES) served straight on `node:http`, every other request handed to the Hono app through
 * @hono/node-server. Why: the adapter's WHATWG Request per request (headers copied, the body a web
 * stream over the socket, an AbortSignal) and the Response it turns back into `node:http` calls
 * cost more CPU than the envelope's cryptography (docs/benchmarks.md "Reading the figures").
 * Both paths run the same exchange (sealed-exchange.ts `exchangeSealed`), so they answer alike:
 * same status, headers, error JSON, order of refusals; `app.request()` tests cover the exchange,
 * test/ai-worker/node-listener.node.test.ts this transport.
 *
 * Transport duties kept from the adapter:
 * - the body limit counts bytes as they arrive (Content-Length is only an early refusal), and so
 *   does the budget of body bytes in flight, the process's and the TCP peer's share of it
 *   (body-budget.ts: past either, 503 not_ready);
 * - the exchange's signal aborts when the client goes away before the answer is complete (the
 *   model call stops; a stream's body is cancelled);
 * - a stream is written with backpressure: the next chunk is read from the sealed stream only once
 *   the socket took the previous one (a slow gateway slows the model); its head leaves with the
 *   first frame, or alone one event-loop turn after the model's head if that frame is not ready;
 *   the first chunk is handed to the socket as it is written, not after the microtasks that follow;
 * - a body left unread (an early refusal, a body over the limit) is drained, at most 64 MiB and
 *   500 ms, then the connection is closed — as the adapter does;
 * - any other target Hono would route to a sealed route is 404 (outsideSealedRoutes);
 * - an answer the peer stops reading is cut after the write-stall bound (WRITE_STALL_MS by default,
 *   SEALGATE_WRITE_STALL_SECONDS) without progress, so no peer holds the model's call and the
 *   request's body budget by not reading; the cut is logged (`write stalled: answer cut`, warn:
 *   route, stream or JSON, bytes handed to the connection and bytes it had not taken — never
 *   content);
 * - anything unexpected is a 500 `internal_error` in OpenAI's error JSON (nothing else leaks), or,
 *   once a stream's head is out, the connection is cut: the gateway then sees the stream end
 *   without its end frame (`stream_truncated`).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { isIdentityCoding, isPlainTransferCoding } from '../http/content-coding.js';
import { errorResponse } from '../http/errors.js';
import { MODEL_ROUTES, type ModelRoute } from '../model/types.js';
import { type BodyBudget, type BodyHold, workerBodyBudget } from './body-budget.js';
import { errorDetail, type WorkerLog } from './log.js';
import {
  exchangeSealed,
  failureAnswer,
  type SealedAnswer,
  type SealedExchangeDeps,
} from './sealed-exchange.js';

const SEALED_ROUTES: ReadonlySet<string> = new Set(MODEL_ROUTES);

/** As @hono/node-server drains an unread request body before closing (listener.ts). */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
export const DRAIN_TIMEOUT_MS = 500;
/**
 * How long an answer may wait for the peer to take written bytes (a stream's 'drain', a JSON
 * answer's 'finish') before the connection is cut. Node has no such bound (`server.timeout` is 0
 * and counts idleness both ways, so a model slow to its next token would trip it). A gateway
 * reads as its client does; a client that reads nothing for a minute has gone, and until the cut
 * the model's call and the body budget stay held. A stream cut so ends without its end frame:
 * the gateway reports `stream_truncated`.
 */
export const WRITE_STALL_MS = 60_000;
/** The bounds of SEALGATE_WRITE_STALL_SECONDS: a stall shorter than a GC pause or a congested
 * link's is no stall; one past an hour holds the model's call and the body budget for nothing. */
export const WRITE_STALL_SECONDS_MIN = 5;
export const WRITE_STALL_SECONDS_MAX = 3600;

export function createWorkerListener(
  app: Hono,
  exchange: SealedExchangeDeps,
  budget: BodyBudget = workerBodyBudget(),
  writeStallMs = WRITE_STALL_MS,
): RequestListener {
  // overrideGlobalObjects: false — do not replace the process's Request/Response (tests share it).
  const viaHono = getRequestListener(outsideSealedRoutes(app), { overrideGlobalObjects: false });
  return (req, res) => {
    // Only the exact route: anything else (a query string aside) is Hono's, which refuses every
    // other form of a sealed route (outsideSealedRoutes).
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (req.method !== 'POST' || !SEALED_ROUTES.has(path)) {
      void viaHono(req, res);
      return;
    }
    void serveSealed(exchange, path as ModelRoute, req, res, budget.hold(req.socket.remoteAddress), {
      ms: writeStallMs,
      route: path,
      log: exchange.log,
    });
  };
}

/**
 * Hono's fetch for what is not a sealed route's exact target. Hono routes other forms of it to the
 * same handler — percent-encoded letters (`/v1/chat/completion%73`), absolute-form targets, dot
 * segments, a fragment — and that handler reads the body with no body budget and no write-stall
 * bound. The gateway sends only the exact path, so a POST that Hono's own
 * `getPath` puts on a sealed route here is 404 before its body is read.
 */
function outsideSealedRoutes(app: Hono): (request: Request) => Response | Promise<Response> {
  return (request) =>
    request.method === 'POST' && SEALED_ROUTES.has(app.getPath(request))
      ? errorResponse('not_found', 'no such route')
      : app.fetch(request);
}

async function serveSealed(
  deps: SealedExchangeDeps,
  route: ModelRoute,
  req: IncomingMessage,
  res: ServerResponse,
  hold: BodyHold,
  stall: StallBound,
): Promise<void> {
  const gone = new AbortController();
  res.once('close', () => {
    hold.release(); // the answer is done or the client gone: the body's bytes are let go
    if (!res.writableFinished) gone.abort();
    if (!req.readableEnded) drain(req);
  });
  let answer: SealedAnswer;
  try {
    answer = await exchangeSealed(deps, route, {
      contentType: header(req, 'content-type'),
      contentLength: header(req, 'content-length'),
      plainCoding:
        isIdentityCoding(header(req, 'content-encoding')) &&
        isPlainTransferCoding(header(req, 'transfer-encoding')),
      readBody(max) {
        return readBody(req, max, hold);
      },
      signal: gone.signal,
    });
  } catch (e) {
    answer = failureAnswer(e, deps.log, 'request');
  }
  if ('body' in answer) {
    if (!res.destroyed) {
      res.writeHead(answer.status, {
        ...answer.headers,
        'content-length': String(Buffer.byteLength(answer.body)),
      });
      res.end(answer.body);
      if (!res.writableFinished) {
        void cutIfStalled(res, 'finish', stall, { stream: false, bytes: Buffer.byteLength(answer.body) });
      }
    }
    return;
  }
  await writeStream(answer, res, deps.log, stall);
}

/** The write-stall bound of one answer, and what its cut is logged with. */
interface StallBound {
  ms: number;
  route: string;
  log: WorkerLog;
}

/**
 * Destroys `res` unless it emits `event` (or closes) within `stall.ms`, and logs the cut: the
 * route, whether a stream, the answer's bytes handed to the connection so far (`written.bytes`) and
 * how many of them the peer had not taken (`res.writableLength`) — sizes only, never content.
 */
function cutIfStalled(
  res: ServerResponse,
  event: 'finish' | 'drain',
  stall: StallBound,
  written: { stream: boolean; bytes: number },
): Promise<void> {
  return new Promise<void>((resolve) => {
    const go = () => {
      clearTimeout(timer);
      res.off(event, go);
      res.off('close', go);
      resolve();
    };
    const timer = setTimeout(() => {
      stall.log('warn', 'write stalled: answer cut', {
        route: stall.route,
        stream: written.stream,
        bytesWritten: written.bytes,
        // What is queued is the output's tail (head, then body): its body part is at most the body.
        bytesUnsent: Math.min(res.writableLength, written.bytes),
        stallSeconds: stall.ms / 1000,
      });
      res.destroy();
      go();
    }, stall.ms);
    res.on(event, go);
    res.on('close', go);
  });
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

/**
 * The whole body, or null as soon as it is known to exceed `max` bytes (declared or counted), or
 * 'busy' as soon as `hold` cannot take the next chunk (body-budget.ts); reading then stops and the
 * rest is drained once the answer is sent. Rejects if the client goes away mid-body.
 */
export function readBody(
  req: IncomingMessage,
  max: number,
  hold?: BodyHold,
): Promise<Uint8Array | null | 'busy'> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > max) return Promise.resolve(null);
  return new Promise<Uint8Array | null | 'busy'>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    // The listeners as methods of one object, not arrow functions: tsx (esbuild keepNames) names
    // every arrow function made per request with an Object.defineProperty (~0.4 µs each).
    const on = {
      done() {
        req.off('data', on.data);
        req.off('end', on.end);
        req.off('error', on.error);
        req.off('close', on.close);
      },
      data(chunk: Buffer) {
        size += chunk.byteLength;
        if (size > max) {
          on.done();
          req.pause();
          resolve(null);
          return;
        }
        if (hold && !hold.take(chunk.byteLength)) {
          on.done();
          req.pause();
          resolve('busy');
          return;
        }
        parts.push(chunk);
      },
      end() {
        on.done();
        const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
        resolve(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
      },
      error(e: Error) {
        on.done();
        reject(e);
      },
      // Closed before its end: the client went away mid-body.
      close() {
        on.done();
        reject(new Error('request body broke off'));
      },
    };
    req.on('data', on.data);
    req.on('end', on.end);
    req.on('error', on.error);
    req.on('close', on.close);
  });
}

/** Reads what is left of a body and throws it away (at most DRAIN_MAX_BYTES / DRAIN_TIMEOUT_MS), then closes. */
function drain(req: IncomingMessage): void {
  if (req.destroyed) return;
  let read = 0;
  const close = () => {
    cleanup();
    req.socket?.destroySoon();
  };
  const timer = setTimeout(close, DRAIN_TIMEOUT_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    read += chunk.byteLength;
    if (read > DRAIN_MAX_BYTES) close();
  };
  const cleanup = () => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', cleanup);
    req.off('error', cleanup);
  };
  req.on('data', onData);
  req.on('end', cleanup);
  req.on('error', cleanup);
  req.resume();
}

/**
 * Hands what `res.write` buffered to the socket now (the first chunk of a stream). node:http corks a chunked response at its
 * first write in a tick and uncorks it on `process.nextTick` (OutgoingMessage `write_`), which runs
 * only once the microtask queue is empty — and the write here is made in a microtask, after which
 * the sealed stream's producer goes on taking the model's next events (the rest of its network
 * read, each checked: upstream.ts) before that queue empties. The first frame would wait for that
 * work (time to first chunk: ~0.1–0.2 ms, docs/gateway.md "Where the time to first chunk goes").
 * For the first chunk only: later ones keep node:http's cork, so the last chunk and the body's end
 * (`res.end`, in the same tick) leave as one packet — one network read for the gateway, which
 * reads the body to its end either way (src/gateway/sealing/stream-answer.ts #complete; sent
 * apart, they once cost it its kept-alive connection to this worker: the `split-end` fault of
 * test/faults/proxy-faults.node.test.ts).
 * The uncork emits 'drain' at once when all of it went to the socket, so a caller asks
 * `writableNeedDrain` after it, not `write`'s result.
 */
function sendNow(res: ServerResponse): void {
  if (res.writableCorked > 0) res.uncork();
}

/** The sealed stream to the socket, one read at a time, waiting for the socket to drain. */
async function writeStream(
  answer: Extract<SealedAnswer, { stream: ReadableStream<Uint8Array> }>,
  res: ServerResponse,
  log: WorkerLog,
  stall: StallBound,
): Promise<void> {
  const reader = answer.stream.getReader();
  // The client went away: cancel the body (the exchange stops the model).
  const onClose = () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  };
  res.once('close', onClose);
  if (res.destroyed) {
    onClose();
    return;
  }
  res.writeHead(answer.status, answer.headers);
  const written = { stream: true, bytes: 0 };
  // The head goes out with the first frame when that is sealed within this turn of the event loop
  // (one write instead of two, as a piped hop sends it); else at the next turn, so a model slow to
  // its first event never holds the head back — with the stream's header, which lets the gateway
  // derive the stream key (and check the head) while the model works, not after its first event.
  let head: ReturnType<typeof setImmediate> | undefined = setImmediate(() => {
    head = undefined;
    if (res.destroyed) return;
    const header = answer.header?.();
    if (!header) return void res.flushHeaders();
    res.write(header);
    written.bytes += header.byteLength;
    sendNow(res);
  });
  const headSent = () => {
    if (head !== undefined) clearImmediate(head);
    head = undefined;
  };
  res.once('close', headSent);
  let first = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      headSent();
      if (done) break;
      if (res.destroyed) return;
      res.write(value);
      written.bytes += value.byteLength;
      if (first) sendNow(res);
      first = false;
      // Asked after the write (and the uncork, which emits 'drain' itself when all went out).
      if (res.writableNeedDrain) await cutIfStalled(res, 'drain', stall, written);
    }
    res.end();
  } catch (e) {
    // sealedStreamBody closes rather than errors; should anything throw, cut the connection: the
    // stream then ends without its end frame, which the gateway reports as stream_truncated.
    log('error', 'sealed stream: unexpected failure', errorDetail(e));
    res.destroy();
  } finally {
    headSent();
  }
}
