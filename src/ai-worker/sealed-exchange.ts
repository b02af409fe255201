/**
 * One sealed exchange on a model route: open the sealed request, call the model, seal the answer.
 *
 * Order of refusals (each with its own code, docs/services.md "Errors the gateway acts on"):
 * not ready (503 `not_ready`) → not JSON (415/413/400) → not sealed (400 `invalid_request`: plain
 * JSON is never accepted here) → `openRequest` (409 `unknown_key` after one key refresh, 409
 * `key_expired`, 409 `replay_detected` for a time outside the window or a second opening, 400
 * `decryption_failed` for anything that does not authenticate — including a body sealed for another
 * route or model, both bound in the AAD) → model (404 `model_not_found`, 400 `invalid_request`,
 * 502 `model_error` / `upstream_unavailable`). Every refusal from the model on comes after the
 * request opened and is sealed under its response key (`sealedFailure`; docs/protocol.md "Sealed
 * error answer"): its status, code and message — the model server's own, if it wrote one — are
 * the worker's, not the hop's. The refusals before are plain, with fixed texts.
 *
 * Streams (docs/protocol.md, sealed streams): every `data:` payload the model produces is sealed as
 * one frame, the frames sealed so far go out together at each read of the body (read ahead, bounded:
 * sealed-stream-body.ts), and the end frame follows the model's last payload. If the model fails
 * mid-stream the response ends *without* the end frame, an error frame sealing the failure in its
 * place (the gateway reports its code; a cut without one is `stream_truncated`), and no half-answer
 * can pass as a whole one. The failure is logged once, with the frames sent before it.
 */

import { MAX_SEALED_FORM_BYTES } from '../api/transcriptions/form.js';
import { utf8 } from '../bytes.js';
import type { RequestContext } from '../envelope/data-key.js';
import type { EnvelopeCrypto } from '../envelope/envelope-crypto.js';
import {
  ERROR_CONTENT_TYPE,
  type SealedErrorContent,
  sealErrorResponse,
} from '../envelope/error-response.js';
import type { ReplayGuard } from '../envelope/replay-guard.js';
import { openRequest } from '../envelope/request.js';
import { sealResponse } from '../envelope/response.js';
import {
  createStreamSealer,
  receiptRecord,
  STREAM_CONTENT_TYPE,
  type StreamSealer,
} from '../envelope/stream.js';
import { ENVELOPE_FIELD } from '../envelope/wire.js';
import { isSealgateError } from '../errors.js';
import { isIdentityCoding, isPlainTransferCoding } from '../http/content-coding.js';
import { errorBody, HTTP_ERROR_CODES, type HttpErrorCode, httpCodeFor } from '../http/errors.js';
import { readLimited } from '../http/read-limited.js';
import { SEALED_WORKER_ERRORS } from '../http/worker-errors.js';
import type { RandomSource } from '../keys/random.js';
import type { ModelBackend, ModelRoute } from '../model/types.js';
import { bodySha256, createStreamHash, type Sha256State, type StreamHash } from '../receipts/receipt.js';
import { errorDetail, type WorkerLog } from './log.js';
import { certificateHeader, makeReceipt, RECEIPT_HEADER, type ReceiptSigner } from './receipt-signer.js';
import { nextTurn, sealedStreamBody } from './sealed-stream-body.js';
import type { WorkerKeyStore } from './worker-keys.js';

export interface SealedExchangeDeps {
  keys: WorkerKeyStore;
  model: ModelBackend;
  replayGuard: ReplayGuard;
  /** Unix seconds. */
  now: () => number;
  maxAgeSeconds: number;
  maxFutureSkewSeconds: number;
  maxBodyBytes: number;
  log: WorkerLog;
  /**
   * Receipts (docs/protocol.md "Receipts"): the signer of the moment (null before registration)
   * and the manifest digest the receipts name. Absent: answers carry no receipt (unit tests only:
   * the gateway refuses an answer without one).
   */
  receipts?: { signer: () => ReceiptSigner | null; manifestDigest: string };
  /**
   * The envelope's crypto backend (src/envelope/envelope-crypto.ts) and the receipts' SHA-256.
   * Absent: WebCrypto (and noble for the stream hash). The Node server passes `node:crypto`'s
   * synchronous ones (server.ts): this app itself imports nothing from `node:*`.
   */
  envelopeCrypto?: EnvelopeCrypto;
  sha256?: () => Sha256State;
  /** A whole body's SHA-256 as hex in one call (receipt hashes); absent: `bodySha256` with `sha256`. */
  sha256Hex?: (bytes: Uint8Array) => string;
  /** The source of an answer's response salt `rs`, JSON or stream (public); absent: the platform CSPRNG. */
  saltRandom?: RandomSource;
  /** A sealed stream's least ms between writes after the first (sealed-stream-body.ts). */
  streamFrameIntervalMs?: number;
}

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * One answer of a sealed route, independent of the HTTP server that sends it: `handleSealed` makes
 * it a WHATWG Response (the Hono app), node-listener.ts writes it to a `node:http` response without
 * one. Every answer carries `cache-control: no-store`.
 */
export type SealedAnswer =
  | { readonly status: number; readonly headers: Record<string, string>; readonly body: string }
  | {
      readonly status: 200;
      readonly headers: Record<string, string>;
      readonly stream: ReadableStream<Uint8Array>;
      /**
       * The stream body's header alone, if no record was sealed yet (StreamSealer.header, under
       * the receipt's hash): written with the head when the model is slow to its first event, so
       * the gateway derives the stream key while the model works. A server that does not take it
       * gets the header with the first record, as the stream would send it.
       */
      readonly header?: () => Uint8Array | undefined;
    };

/** What a sealed exchange needs of the incoming HTTP request. */
export interface SealedRequestInput {
  contentType: string | null;
  contentLength: string | null;
  /** No content coding but `identity`, no transfer coding but `chunked` (http/content-coding.ts). */
  plainCoding: boolean;
  /**
   * The body's bytes, or null as soon as it is known to exceed `max` bytes, or 'busy' when the
   * process holds all the body bytes it may (ai-worker/body-budget.ts); then it is not read on.
   */
  readBody(max: number): Promise<Uint8Array | null | 'busy'>;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/** OpenAI's error JSON for `code` (src/http/errors.ts) as an answer. */
export function errorAnswer(
  code: HttpErrorCode,
  message: string,
  headers: Record<string, string> = {},
): SealedAnswer {
  return {
    status: HTTP_ERROR_CODES[code],
    headers: { 'content-type': 'application/json', ...NO_STORE, ...headers },
    body: JSON.stringify(errorBody(code, message)),
  };
}

/**
 * What the client is told for a failure: the code's HTTP status and a fixed message per code. The
 * error's own message stays in the CVM's log: it can describe the opened request (a field path, a
 * type, a count), and the hop to the gateway must learn nothing of the sealed body but its code.
 */
export function failureAnswer(e: unknown, log: WorkerLog, what: string): SealedAnswer {
  const code = httpCodeFor(e);
  if (code === 'internal_error') {
    log('error', `${what}: unexpected failure`, errorDetail(e));
    return errorAnswer('internal_error', 'internal error');
  }
  log('warn', `${what}: refused`, errorDetail(e));
  return errorAnswer(code, `${what} refused: ${code} (details are in the worker's log)`);
}

/**
 * A refusal after the request opened, sealed to its client: the code of the error (one the
 * gateway takes sealed: src/http/worker-errors.ts; any other is `internal_error`) and the text
 * written for the client (`clientMessage`: the model server's own words, a translation's field
 * check), else a fixed one. The log gets the error as ever, never `clientMessage`.
 */
export function sealedFailure(
  deps: SealedExchangeDeps,
  context: RequestContext,
  e: unknown,
  what: string,
): Promise<SealedAnswer> {
  const { code, message } = failureContent(deps, e, what);
  return sealedError(deps, context, code, message);
}

/**
 * What the client reads of a failure after the request opened (`sealedFailure`; a stream's error
 * frame): a code the gateway takes sealed, its status, and the text for the client — the error's
 * `clientMessage` (the model server's own words, a translation's field check), else a fixed one.
 * The log gets the error as ever, never `clientMessage`.
 */
export function failureContent(
  deps: Pick<SealedExchangeDeps, 'log'>,
  e: unknown,
  what: string,
): SealedErrorContent & { code: HttpErrorCode } {
  const failed = classifyFailure(e, what);
  deps.log(failed.level, failed.logMessage, errorDetail(e));
  return failed.content;
}

/** A failure after the request opened, logged once by its caller: what to log, what to seal. */
interface ClassifiedFailure {
  level: 'warn' | 'error';
  logMessage: string;
  content: SealedErrorContent & { code: HttpErrorCode };
}

/** `failureContent` without its log line (a stream logs its failure once, with its frame count). */
function classifyFailure(e: unknown, what: string): ClassifiedFailure {
  const code = httpCodeFor(e);
  if (code === 'internal_error' || !SEALED_WORKER_ERRORS.has(code)) {
    const content = {
      status: HTTP_ERROR_CODES.internal_error,
      code: 'internal_error',
      message: 'internal error',
    } as const;
    return { level: 'error', logMessage: `${what}: unexpected failure`, content };
  }
  const message = isSealgateError(e) && e.clientMessage ? e.clientMessage : `${what} refused: ${code}`;
  return {
    level: 'warn',
    logMessage: `${what}: refused`,
    content: { status: HTTP_ERROR_CODES[code], code, message },
  };
}

/** An error answer sealed under the request's response key (envelope/error-response.ts). */
export async function sealedError(
  deps: SealedExchangeDeps,
  context: RequestContext,
  code: HttpErrorCode,
  message: string,
): Promise<SealedAnswer> {
  const status = HTTP_ERROR_CODES[code];
  try {
    const random = deps.saltRandom ? { random: deps.saltRandom } : {};
    const sealed = await sealErrorResponse(context, { status, code, message }, random);
    return {
      status,
      headers: { 'content-type': ERROR_CONTENT_TYPE, ...NO_STORE },
      body: JSON.stringify(sealed),
    };
  } catch (e) {
    deps.log('error', 'sealing an error answer failed', errorDetail(e));
    return errorAnswer('internal_error', 'internal error');
  }
}

/** `failureAnswer` as a Response (the Hono app's other routes and its error handler). */
export function failure(e: unknown, log: WorkerLog, what: string): Response {
  return answerResponse(failureAnswer(e, log, what));
}

export function answerResponse(answer: SealedAnswer): Response {
  return new Response('body' in answer ? answer.body : answer.stream, {
    status: answer.status,
    headers: answer.headers,
  });
}

/** A sealed exchange for the Hono app: the WHATWG Request in, a Response out. */
export async function handleSealed(
  deps: SealedExchangeDeps,
  route: ModelRoute,
  request: Request,
): Promise<Response> {
  return answerResponse(
    await exchangeSealed(deps, route, {
      contentType: request.headers.get('content-type'),
      contentLength: request.headers.get('content-length'),
      plainCoding:
        isIdentityCoding(request.headers.get('content-encoding')) &&
        isPlainTransferCoding(request.headers.get('transfer-encoding')),
      readBody: (max) => readLimited(request.body, request.headers.get('content-length'), max),
      signal: request.signal,
    }),
  );
}

export async function exchangeSealed(
  deps: SealedExchangeDeps,
  route: ModelRoute,
  request: SealedRequestInput,
): Promise<SealedAnswer> {
  const now = deps.now();
  const read = await readSealedBody(deps, route, request, now);
  if ('status' in read) return read;
  const { bytes, json } = read;

  // Taken now: the receipt names the certificate of this moment.
  const signer = deps.receipts?.signer() ?? null;
  if (deps.receipts && !signer) {
    return errorAnswer('not_ready', 'worker holds no certificate yet', { 'retry-after': '1' });
  }

  let opened: Awaited<ReturnType<typeof openRequest>>;
  try {
    opened = await openRequest(json, deps.keys, {
      route,
      now,
      maxAgeSeconds: deps.maxAgeSeconds,
      maxFutureSkewSeconds: deps.maxFutureSkewSeconds,
      replayGuard: deps.replayGuard,
      ...(deps.envelopeCrypto ? { envelopeCrypto: deps.envelopeCrypto } : {}),
    });
  } catch (e) {
    return failureAnswer(e, deps.log, 'sealed request');
  }
  const { body, context } = opened;
  if (deps.model.servesModel(context.model) === false) {
    return await sealedError(
      deps,
      context,
      'model_not_found',
      `the model "${context.model}" is not served by this worker`,
    );
  }

  const call = linkedModelCall(request.signal);
  // Time to first chunk: the model request goes out first; what only the answer needs (the
  // request's hash for the receipt, a stream's sealer and key) is made while the model works.
  const pending = deps.model.call(route, { body, signal: call.controller.signal });
  pending.catch(() => undefined); // handled below; not an unhandled rejection meanwhile
  await nextTurn(); // node:http writes the request on the next tick, before this turn ends
  const receipts = signer ? await receiptsFor(deps, signer, bytes) : null;
  const ahead = body.stream === true ? streamAhead(deps, context, receipts) : undefined;
  let answer: Awaited<ReturnType<ModelBackend['call']>>;
  try {
    answer = await pending;
  } catch (e) {
    call.release();
    return await sealedFailure(deps, context, e, 'model call');
  }
  if (answer.kind === 'json') {
    call.release();
    return await sealedAnswerJson(deps, context, answer.body, receipts);
  }
  // A burst at a time when the model has them so (an upstream's network reads), else event by event.
  return sealedAnswerStream(
    deps,
    ahead ?? streamAhead(deps, context, receipts),
    answer.batches ?? answer.events,
    call,
    receipts,
  );
}

/**
 * The model call's abort controller, linked to the client's signal: the call stops when the client
 * goes away — for a stream, also when the response body is cancelled (sealedAnswerStream).
 * Method shorthand, not arrow functions: tsx (esbuild keepNames) names every arrow function made
 * per request with an Object.defineProperty (~0.4 µs each); methods it leaves alone.
 */
function linkedModelCall(signal: AbortSignal): ModelCallState {
  const controller = new AbortController();
  const link = {
    onAbort() {
      controller.abort();
    },
  };
  signal.addEventListener('abort', link.onAbort, { once: true });
  return {
    controller,
    release() {
      signal.removeEventListener('abort', link.onAbort);
    },
  };
}

/** What a stream's answer needs before its first event. */
interface StreamAhead {
  context: RequestContext;
  sealer: StreamSealer;
  /** The receipt's stream hash state, fed nothing yet (none without receipts). */
  bodyHash: StreamHash | undefined;
}

/**
 * A stream's sealer with its key derived, and its receipt hash state: made while the model works
 * (the model's head often comes with its first event, so anything made at the head is on the path
 * to the first frame: ttfc-trace.ts, commit body).
 */
function streamAhead(
  deps: SealedExchangeDeps,
  context: RequestContext,
  receipts: Receipts | null,
): StreamAhead {
  // The stream's salt rs is public (it leads the body), so it may come from the salt pool too.
  const sealer = createStreamSealer(context, deps.saltRandom ? { random: deps.saltRandom } : {});
  sealer.prepare();
  return { context, sealer, bodyHash: receipts ? createStreamHash(deps.sha256) : undefined };
}

/** The signer of this request and its receipts, which name the request's hash. */
interface Receipts {
  signer: ReceiptSigner;
  make(context: RequestContext, responseSha256: string, stream: boolean): Promise<string>;
}

/** The model call's abort controller, and the removal of its link to the client's signal. */
interface ModelCallState {
  controller: AbortController;
  release: () => void;
}

/** Refusals before anything is opened: not ready, not JSON, too large, not a sealed request. */
async function readSealedBody(
  deps: SealedExchangeDeps,
  route: ModelRoute,
  request: SealedRequestInput,
  now: number,
): Promise<{ bytes: Uint8Array; json: object } | SealedAnswer> {
  if (deps.keys.count(now) === 0) {
    return errorAnswer('not_ready', 'worker holds no key yet', { 'retry-after': '1' });
  }
  const type = request.contentType ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return errorAnswer('unsupported_media_type', 'sealed requests are application/json');
  }
  if (!request.plainCoding) {
    // Node decodes neither a content coding nor a transfer coding but chunked: the label would be
    // ignored, so the body read would not be the one sent.
    return errorAnswer('unsupported_media_type', 'the body must not be content- or transfer-coded', {
      'accept-encoding': 'identity',
    });
  }
  // A sealed transcription carries its audio base64url-encoded (src/api/transcriptions/form.ts).
  const maxBytes =
    route === '/v1/audio/transcriptions'
      ? Math.max(deps.maxBodyBytes, MAX_SEALED_FORM_BYTES)
      : deps.maxBodyBytes;
  const bytes = await request.readBody(maxBytes);
  if (bytes === null) {
    return errorAnswer('payload_too_large', `request body exceeds ${maxBytes} bytes`);
  }
  if (bytes === 'busy') {
    return errorAnswer('not_ready', 'worker holds as many request bodies as it may; try another', {
      'retry-after': '1',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    return errorAnswer('invalid_json', 'request body is not UTF-8 JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !(ENVELOPE_FIELD in json)) {
    return errorAnswer('invalid_request', 'this route accepts only sealed requests (docs/protocol.md)');
  }
  return { bytes, json };
}

async function receiptsFor(
  deps: SealedExchangeDeps,
  signer: ReceiptSigner,
  bytes: Uint8Array,
): Promise<Receipts> {
  const requestSha256 = await hashHex(deps, bytes);
  // The envelope backend's base64url (Buffer's in the Node worker) also spells the receipt.
  const codec = deps.envelopeCrypto?.base64url;
  return {
    signer,
    make(context, responseSha256, stream) {
      return makeReceipt({
        signer,
        context,
        manifestDigest: deps.receipts!.manifestDigest,
        requestSha256,
        responseSha256,
        stream,
        now: deps.now(),
        ...(codec ? { base64url: codec.encode } : {}),
      });
    },
  };
}

/** SHA-256 hex of a whole body: the one-shot hash when the server brings one. */
function hashHex(deps: SealedExchangeDeps, bytes: Uint8Array): string | Promise<string> {
  return deps.sha256Hex ? deps.sha256Hex(bytes) : bodySha256(bytes, deps.sha256);
}

/** A JSON answer, sealed; its receipt hashes exactly the bytes sent. */
async function sealedAnswerJson(
  deps: SealedExchangeDeps,
  context: RequestContext,
  answer: Record<string, unknown>,
  receipts: Receipts | null,
): Promise<SealedAnswer> {
  try {
    // The body is sent as this text, i.e. exactly its UTF-8 bytes, which the receipt hashes.
    const sealed = JSON.stringify(
      await sealResponse(context, answer, deps.saltRandom ? { random: deps.saltRandom } : {}),
    );
    const signed = receipts
      ? {
          [RECEIPT_HEADER]: await receipts.make(context, await hashHex(deps, utf8.encode(sealed)), false),
          ...certificateHeader(receipts.signer),
        }
      : {};
    return {
      status: 200,
      headers: { 'content-type': 'application/json', ...NO_STORE, ...signed },
      body: sealed,
    };
  } catch (e) {
    return await sealedFailure(deps, context, e, 'sealing the answer');
  }
}

/** A streamed answer, sealed frame by frame; the receipt is a trailer over the body's hash. */
function sealedAnswerStream(
  deps: SealedExchangeDeps,
  { context, sealer, bodyHash }: StreamAhead,
  events: AsyncIterable<string | readonly string[]>,
  call: ModelCallState,
  receipts: Receipts | null,
): SealedAnswer {
  const log = deps.log;
  const rid = context.requestId;
  const stream = sealedStreamBody({
    events: events[Symbol.asyncIterator](),
    sealer,
    ...(deps.streamFrameIntervalMs !== undefined ? { frameIntervalMs: deps.streamFrameIntervalMs } : {}),
    onRecord: bodyHash ? (record) => bodyHash.update(record) : undefined,
    trailer:
      bodyHash && receipts
        ? async () => receiptRecord(await receipts.make(context, bodyHash.digest(), true))
        : undefined,
    onEnd: () => call.release(),
    failure: (e) => classifyFailure(e, 'model stream').content,
    onFailure: (e, frames) => {
      // No end frame: an error frame when the model failed (its failure sealed), else the cut
      // alone; the gateway releases nothing more either way. One failure, one line: its code,
      // its detail and the frames sent before it (never the client's text: `errorDetail`).
      const failed = classifyFailure(e, 'model stream');
      log(failed.level, `${failed.logMessage}: sealed stream ends without its end frame`, {
        rid,
        frames,
        ...errorDetail(e),
      });
      call.release();
      call.controller.abort(); // release the model server's connection, if any is left
    },
    onCancel: () => {
      call.controller.abort();
      call.release();
    },
  });
  return {
    status: 200,
    stream,
    header() {
      // Before any record (the sealer gives it only then), so first under the hash too.
      const header = sealer.header();
      if (header) bodyHash?.update(header);
      return header;
    },
    headers: {
      'content-type': STREAM_CONTENT_TYPE,
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
      ...(receipts ? certificateHeader(receipts.signer) : {}),
    },
  };
}
