/**
 * One sealed request, from the current key to the opened answer (docs/gateway.md "The sealed
 * path"). Invariants: a request never verifies evidence and never waits for an attestation — with
 * no current key it fails closed (503 `no_attested_service`) and only asks the key-rotation DO to
 * run soon; a worker's `unknown_key` earns one refresh of the keys from the DO and one retry, never
 * a loop; nothing of an answer is released before its worker certificate checked out
 * (sealing/receipt-check.ts).
 */
import { isSealgateError } from '../../../errors.js';
import { errorResponse, type HttpErrorCode } from '../../../http/errors.js';
import type { Kek } from '../../../keys/kek.js';
import type { Fetcher } from '../../../service-client/http.js';
import type { ExecutionContextLike } from '../../cf-types.js';
import type { GatewayConfig, GatewayEnv } from '../../config.js';
import { pokeRotation } from '../../durable-objects/rotation-client.js';
import { currentKey, refreshFromDo } from '../../kv/key-cache.js';
import type { UsageMeter } from '../../limits/usage-meter.js';
import { log } from '../../log.js';
import { prepareReceipt } from '../../sealing/receipt-check.js';
import { openStreamAnswer } from '../../sealing/stream-answer.js';
import { type Exchange, exchange, openJsonAnswer } from '../../sealing/upstream.js';

export interface SealedRequest {
  env: GatewayEnv;
  config: GatewayConfig;
  /** The `x-sealgate-*` headers every answer carries. */
  headers: Record<string, string>;
  /** SHA-256 (hex) of the API key that made the request: the only key that may read its receipt. */
  owner: string;
  route: string;
  /** The checked request body (read-json-body.ts). */
  body: Record<string, unknown>;
  signal: AbortSignal;
  fetch: Fetcher;
  ctx: ExecutionContextLike | undefined;
  /** A metered key's token count of the answer (limits/usage-meter.ts). */
  meter?: UsageMeter | undefined;
}

type Sent =
  | Exchange
  | { kind: 'error'; code: HttpErrorCode; status: number; message: string; param?: string };

export async function sealedExchange(req: SealedRequest): Promise<Response> {
  let kek = await keyOrError(req);
  if (kek instanceof Response) return kek;
  let result = await send(req, kek);
  if (result.kind === 'unknown_key') {
    // The worker does not know our key id: our copy is stale (or the worker's). One refresh from
    // the DO, one retry — never a loop.
    await refreshFromDo(req.env, req.config, req.ctx);
    kek = await keyOrError(req);
    if (kek instanceof Response) return kek;
    result = await send(req, kek);
  }
  switch (result.kind) {
    case 'answer':
      return await openAnswer(req, result);
    case 'error':
      return errorResponse(result.code, result.message, { param: 'param' in result ? result.param : null });
    case 'unknown_key':
      recheck(req);
      return errorResponse('no_worker_available', 'no AI worker holds the current key');
    case 'client_gone':
      // Nobody reads this answer; no worker failed, so the key-rotation DO is not asked to recheck.
      return errorResponse('invalid_request', 'the client closed the request before an AI worker answered');
    case 'no_worker':
      recheck(req);
      return errorResponse('no_worker_available', 'no AI worker answered', {
        headers: { 'retry-after': '1' },
      });
  }
}

/** The key to seal under, or the 503 when there is none (and the DO is asked to attest soon). */
async function keyOrError(req: SealedRequest): Promise<Kek | Response> {
  try {
    return await currentKey(req.env, req.config, req.ctx);
  } catch (e) {
    log('error', 'no_key', {
      code: isSealgateError(e) ? e.code : 'internal',
      message: (e as Error).message,
    });
    pokeRotation(req.env, req.config.manifestDigest, 'ensureAlarm', req.ctx);
    return errorResponse('no_attested_service', 'no verified attestation service holds a current key', {
      headers: { 'retry-after': '5' },
    });
  }
}

/**
 * The 400 for a body the envelope refuses, worded for the API client from the error's detail
 * (OpenAI's `param`), not from the envelope's own message, which names internal functions.
 */
function refusedBody(detail: Readonly<Record<string, unknown>> | undefined): Sent {
  const { param, expected } = detail ?? {};
  const named = typeof param === 'string' && typeof expected === 'string';
  return {
    kind: 'error',
    code: 'invalid_request',
    status: 400,
    message: named ? `${param} must be ${expected}` : 'the body is not a valid request',
    ...(named ? { param } : {}),
  };
}

/** Seals the body under `kek` and sends it to the workers; a body the envelope refuses is a 400. */
function send(req: SealedRequest, kek: Kek): Promise<Sent> {
  return exchange({
    kek,
    route: req.route,
    body: req.body,
    workerUrls: req.config.workerUrls,
    fetch: req.fetch,
    signal: req.signal,
  }).catch((e): Sent => {
    if (isSealgateError(e, 'invalid_argument')) return refusedBody(e.detail);
    throw e;
  });
}

/**
 * No worker could serve with our key: maybe the service lost its keys (restart). Ask the DO to
 * recheck the service soon (rate-limited there); the request itself never waits for it.
 */
function recheck(req: SealedRequest): void {
  pokeRotation(req.env, req.config.manifestDigest, 'recheckSoon', req.ctx);
}

/** The worker's answer, opened — once its worker certificate is one a verified service issued. */
async function openAnswer(
  req: SealedRequest,
  result: Extract<Exchange, { kind: 'answer' }>,
): Promise<Response> {
  const out = {
    ...req.headers,
    'x-sealgate-key-id': result.kek.kid,
    'x-sealgate-receipt': result.context.requestId,
  };
  const { ctx } = req;
  // The answer comes in the form asked for (`stream`, plain and bound in the request's AAD): a JSON
  // answer to a stream reads as an SSE stream with no event (an SDK ends quietly, empty), a stream
  // to a JSON request as a body no client parses. A transcription's `stream` is a form field inside
  // the seal, so either form is its own.
  const asked = req.route === '/v1/audio/transcriptions' ? result.stream : req.body.stream === true;
  if (result.stream !== asked) {
    await result.response.body?.cancel().catch(() => undefined);
    log('error', 'answer_rejected', { rid: result.context.requestId, code: 'upstream_tampered' });
    return errorResponse(
      'upstream_tampered',
      'the AI worker answered in another form than the one asked for',
    );
  }
  let receipt: Awaited<ReturnType<typeof prepareReceipt>>;
  try {
    receipt = await prepareReceipt({
      kv: req.env.SEALGATE_KV,
      secret: req.config.secret,
      manifestDigest: req.config.manifestDigest,
      maxServiceAgeSeconds: 2 * req.config.manifest.keyPolicy.rotationIntervalSeconds,
      owner: req.owner,
      store: req.config.storeReceipts,
      ...result,
      ...(ctx ? { defer: (write: Promise<unknown>) => ctx.waitUntil(write) } : {}),
    });
  } catch (e) {
    await result.response.body?.cancel().catch(() => undefined);
    return certificateRejected(result.context.requestId, e);
  }
  if (result.stream) {
    const defer = ctx ? (work: Promise<unknown>) => ctx.waitUntil(work) : undefined;
    return openStreamAnswer(result, out, receipt, req.meter, defer);
  }
  // A stream's id goes out before its receipt is checked; a refused JSON answer names none.
  const answer = await openJsonAnswer(result, out, receipt, req.meter);
  if (!answer.ok) answer.headers.delete('x-sealgate-receipt');
  return answer;
}

function certificateRejected(rid: string, e: unknown): Response {
  const code: HttpErrorCode = isSealgateError(e, 'unknown_key')
    ? 'no_attested_service'
    : isSealgateError(e)
      ? 'upstream_tampered'
      : 'internal_error';
  log('error', 'worker_certificate_rejected', { rid, code, message: (e as Error).message });
  return errorResponse(code, 'the AI worker’s certificate is not one a verified attestation service issued');
}
