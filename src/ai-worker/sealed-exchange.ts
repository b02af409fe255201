/**
 * One sealed exchange on a model route: open the sealed request, call the model, seal the answer.
 *
 * Order of refusals (each with its own code, docs/services.md "Errors the gateway acts on"):
 * not ready (503 `not_ready`) → not JSON (415/413/400) → not sealed (400 `invalid_request`: plain
 * JSON is never accepted here) → `openRequest` (409 `unknown_key` after one key refresh, 409
 * `key_expired`, 409 `replay_detected` for a time outside the window or a second opening, 400
 * `decryption_failed` for anything that does not authenticate — including a body sealed for another
 * route or model, both bound in the AAD) → model (404 `model_not_found`, 400 `invalid_request`,
 * 502 `model_error` / `upstream_unavailable`).
 *
 * Streams (docs/protocol.md, sealed streams): every `data:` payload the model produces is sealed as
 * one frame, the frames sealed so far go out together at each read of the body (read ahead, bounded:
 * sealed-stream-body.ts), and the end frame follows the model's last payload. If the model fails mid-stream the response
 * ends *without* the end frame: the gateway's opener then reports `stream_truncated`, and no
 * half-answer can pass as a whole one.
 */

import { utf8 } from '../bytes.js';
import type { RequestContext } from '../envelope/data-key.js';
import type { EnvelopeCrypto } from '../envelope/envelope-crypto.js';
import type { ReplayGuard } from '../envelope/replay-guard.js';
import { openRequest } from '../envelope/request.js';
import { sealResponse } from '../envelope/response.js';
import { createStreamSealer } from '../envelope/stream.js';
import { ENVELOPE_FIELD } from '../envelope/wire.js';
import { isSealgateError } from '../errors.js';
import { errorResponse, httpCodeFor } from '../http/errors.js';
import { readLimited } from '../http/read-limited.js';
import type { ModelBackend, ModelRoute } from '../model/types.js';
import { bodySha256, createFrameHash, receiptTrailer, type Sha256State } from '../receipts/receipt.js';
import { errorDetail, type WorkerLog } from './log.js';
import { certificateHeader, makeReceipt, RECEIPT_HEADER, type ReceiptSigner } from './receipt-signer.js';
import { sealedStreamBody } from './sealed-stream-body.js';
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
   * Absent: WebCrypto (and noble for the frame hash). The Node server passes `node:crypto`'s
   * synchronous ones (server.ts): this app itself imports nothing from `node:*`.
   */
  envelopeCrypto?: EnvelopeCrypto;
  sha256?: () => Sha256State;
}

const NO_STORE = { 'cache-control': 'no-store' };

/** What the client is told for a failure: the code's HTTP status, a message without secrets. */
export function failure(e: unknown, log: WorkerLog, what: string): Response {
  const code = httpCodeFor(e);
  if (code === 'internal_error') {
    log('error', `${what}: unexpected failure`, errorDetail(e));
    return errorResponse('internal_error', 'internal error');
  }
  log('warn', `${what}: refused`, errorDetail(e));
  // SealgateError messages name fields and checks, never key material or content.
  return errorResponse(code, isSealgateError(e) ? e.message : code);
}

export async function handleSealed(
  deps: SealedExchangeDeps,
  route: ModelRoute,
  request: Request,
): Promise<Response> {
  const now = deps.now();
  if (deps.keys.count(now) === 0) {
    return errorResponse('not_ready', 'worker holds no key yet', { headers: { 'retry-after': '1' } });
  }
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return errorResponse('unsupported_media_type', 'sealed requests are application/json');
  }
  const bytes = await readBody(request, deps.maxBodyBytes);
  if (bytes === undefined) {
    return errorResponse('payload_too_large', `request body exceeds ${deps.maxBodyBytes} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    return errorResponse('invalid_json', 'request body is not UTF-8 JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !(ENVELOPE_FIELD in json)) {
    return errorResponse('invalid_request', 'this route accepts only sealed requests (docs/protocol.md)');
  }

  // Taken now, with the request's hash: the receipt names the certificate of this moment.
  const signer = deps.receipts?.signer() ?? null;
  if (deps.receipts && !signer) {
    return errorResponse('not_ready', 'worker holds no certificate yet', { headers: { 'retry-after': '1' } });
  }
  const requestSha256 = signer ? await bodySha256(bytes, deps.sha256) : '';
  const receipt = (context: RequestContext, responseSha256: string, stream: boolean) =>
    makeReceipt({
      signer: signer!,
      context,
      manifestDigest: deps.receipts!.manifestDigest,
      requestSha256,
      responseSha256,
      stream,
      now: deps.now(),
    });

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
    return failure(e, deps.log, 'sealed request');
  }
  const { body, context } = opened;
  if (deps.model.servesModel(context.model) === false) {
    return errorResponse('model_not_found', 'this worker does not serve that model');
  }

  // The model call stops when the client goes away (request.signal) — for a stream, also when the
  // response body is cancelled (below).
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  request.signal.addEventListener('abort', onAbort, { once: true });
  let answer: Awaited<ReturnType<ModelBackend['call']>>;
  try {
    answer = await deps.model.call(route, { body, signal: controller.signal });
  } catch (e) {
    request.signal.removeEventListener('abort', onAbort);
    return failure(e, deps.log, 'model call');
  }
  if (answer.kind === 'json') {
    request.signal.removeEventListener('abort', onAbort);
    try {
      // The body is sent as this text, i.e. exactly its UTF-8 bytes, which the receipt hashes.
      const sealed = JSON.stringify(await sealResponse(context, answer.body));
      const signed = signer
        ? {
            [RECEIPT_HEADER]: await receipt(
              context,
              await bodySha256(utf8.encode(sealed), deps.sha256),
              false,
            ),
            ...certificateHeader(signer),
          }
        : {};
      return new Response(sealed, {
        status: 200,
        headers: { 'content-type': 'application/json', ...NO_STORE, ...signed },
      });
    } catch (e) {
      return failure(e, deps.log, 'sealing the answer');
    }
  }

  const log = deps.log;
  const rid = context.requestId;
  const frameHash = signer ? createFrameHash(deps.sha256) : undefined;
  const stream = sealedStreamBody({
    events: answer.events[Symbol.asyncIterator](),
    sealer: createStreamSealer(context),
    onFrame: frameHash ? (frame) => frameHash.update(frame) : undefined,
    trailer: frameHash
      ? async () => receiptTrailer(await receipt(context, frameHash.digest(), true))
      : undefined,
    onEnd: () => request.signal.removeEventListener('abort', onAbort),
    onFailure: (e, frames) => {
      // No end frame: the gateway detects the cut (stream_truncated) and releases nothing more.
      log('warn', 'model stream failed: sealed stream ends without its end frame', {
        rid,
        frames,
        ...errorDetail(e),
      });
      request.signal.removeEventListener('abort', onAbort);
      controller.abort(); // release the model server's connection, if any is left
    },
    onCancel: () => {
      controller.abort();
      request.signal.removeEventListener('abort', onAbort);
    },
  });
  return new Response(stream, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
      ...(signer ? certificateHeader(signer) : {}),
    },
  });
}

/** The body's bytes, or undefined when it exceeds `max` bytes (Content-Length or actual). */
async function readBody(request: Request, max: number): Promise<Uint8Array | undefined> {
  return (await readLimited(request.body, request.headers.get('content-length'), max)) ?? undefined;
}
