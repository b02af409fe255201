/**
 * The sealed exchange with the AI workers (docs/protocol.md): seal the OpenAI body under the
 * current KEK, POST it to a worker (in turn from WORKER_URLS; an unreachable or unavailable worker
 * is skipped), and open what comes back — one sealed JSON answer, or a sealed SSE stream frame by
 * frame. Nothing unsealed ever leaves the gateway, and nothing reaches the client that did not
 * authenticate: a stream that breaks ends with an OpenAI error event after the last verified
 * chunk, and OpenAI's `[DONE]` is held back until the end frame verified, so a cut stream can
 * never look complete (streams: stream-answer.ts). An answer is a stream only under the format-3
 * media type (envelope/stream.ts); any other type that is not JSON, a format-2 `text/event-stream`
 * included, is refused as tampered, never read another way.
 *
 * A worker's refusal after it opened the request comes sealed (envelope/error-response.ts, its own
 * media type): its status and code are checked against the closed split (http/worker-errors.ts)
 * and the outer status, and its message goes to the client unchanged and unlogged. A plain
 * refusal passes only with a code a worker answers before opening, with that code's status; any
 * other — one that may only come sealed, one no worker answers — is `upstream_tampered`.
 */
import { toHex, utf8 } from '../../bytes.js';
import type { RequestContext } from '../../envelope/data-key.js';
import { ERROR_CONTENT_TYPE, openErrorResponse } from '../../envelope/error-response.js';
import { sealRequest } from '../../envelope/request.js';
import { openResponse } from '../../envelope/response.js';
import { STREAM_CONTENT_TYPE } from '../../envelope/stream.js';
import { isSealgateError, SealgateError } from '../../errors.js';
import { errorBody, HTTP_ERROR_CODES, type HttpErrorCode, isHttpErrorCode } from '../../http/errors.js';
import { readLimited } from '../../http/read-limited.js';
import { isPlainWorkerError, isSealedWorkerError } from '../../http/worker-errors.js';
import type { Kek } from '../../keys/kek.js';
import { KEPT_RECEIPT_HEADER, MAX_KEPT_RECEIPT_LENGTH } from '../../receipts/kept-receipt.js';
import { bodySha256, RECEIPT_HEADER } from '../../receipts/receipt.js';
import type { Fetcher } from '../../service-client/http.js';
import { nowSeconds } from '../clock.js';
import type { UsageMeter } from '../limits/usage-meter.js';
import { log } from '../log.js';
import type { AnswerReceipt } from './receipt-check.js';
import { workerRefusalMessage } from './worker-error-text.js';

/** Largest sealed JSON answer read from a worker (an embeddings batch can be big). */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/**
 * Largest error answer read from a worker, sealed (a message is at most 2048 UTF-16 code units) or
 * plain (a fixed text): a longer body is not a worker's and is not read on.
 */
const MAX_ERROR_BYTES = 64 * 1024;

export type Exchange =
  | {
      kind: 'answer';
      response: Response;
      context: RequestContext;
      kek: Kek;
      stream: boolean;
      /** SHA-256 (hex) of the sealed request body sent (the receipt must name it). */
      requestSha256: string;
    }
  | { kind: 'unknown_key' }
  | { kind: 'error'; code: HttpErrorCode; status: number; message: string }
  | { kind: 'no_worker' }
  /** The client went away (its request's signal aborted) before a worker answered: nothing to try. */
  | { kind: 'client_gone' };

let nextWorker = 0;

/**
 * Workers in the order to try them: rotating start (spreads load; a URL listed twice starts twice
 * as often), then the rest in turn, each URL once — one seal reaches one worker URL at most once
 * (the next worker gets the same seal, `refusal`).
 */
function order(urls: readonly string[]): string[] {
  const start = nextWorker++ % Math.max(1, urls.length);
  return [...new Set([...urls.slice(start), ...urls.slice(0, start)])];
}

function requestId(): string {
  return `gw-${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/**
 * The worker's error code and message (its messages name fields and checks, never content). The
 * body is unauthenticated — anyone on the hop can write it — so it is read to MAX_ERROR_BYTES at
 * most; a longer one, or one that is not JSON, names no code.
 */
async function errorOf(res: Response): Promise<{ code: string | null; message: string | null }> {
  try {
    const bytes = await readLimited(res.body, res.headers.get('content-length'), MAX_ERROR_BYTES);
    if (bytes === null) return { code: null, message: null };
    const body = JSON.parse(utf8.decode(bytes)) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body?.error?.code === 'string' ? body.error.code : null;
    const message = typeof body?.error?.message === 'string' ? body.error.message.slice(0, 500) : null;
    return { code, message };
  } catch {
    return { code: null, message: null };
  }
}

/** Whether another worker may do better: it was down, not ready, or broke (never a request problem). */
function tryNext(status: number, code: string | null): boolean {
  if (status >= 500) return code !== 'model_error';
  return status === 408 || status === 429;
}

export async function exchange(input: {
  kek: Kek;
  route: string;
  body: Record<string, unknown>;
  workerUrls: readonly string[];
  fetch: Fetcher;
  signal?: AbortSignal;
}): Promise<Exchange> {
  const rid = requestId();
  const { sealed, context } = await sealRequest({
    kek: input.kek,
    route: input.route,
    requestId: rid,
    body: input.body,
    now: nowSeconds(),
  });
  const text = JSON.stringify(sealed);
  // Only an answer needs it, and none is read before: awaited then. workerd's digest settles before
  // it returns, so it is taken before the request goes out. Taking it (and making a stream's hash
  // state) on a timer task after the fetch was issued moved it off the gateway's path but made the
  // model server 0.1–0.2 ms slower to its first byte on a shared 2-core machine, p50 in six rounds
  // (docs/gateway.md "Where the time to first chunk goes"): that wait is not idle CPU there.
  const hashing = bodySha256(utf8.encode(text));
  hashing.catch(() => undefined); // awaited below; a request no worker answers never reads it
  let replayRefused: Exchange | null = null;
  for (const base of order(input.workerUrls)) {
    // A client that went away is not served by the next worker (nor counted as a worker's failure).
    if (input.signal?.aborted) return { kind: 'client_gone' };
    const res = await postSeal(input, base, text, rid);
    if (res === 'client_gone') return { kind: 'client_gone' };
    if (res === 'skip') continue;
    if (res.ok) {
      const type = mediaType(res.headers.get('content-type'));
      return {
        kind: 'answer',
        response: res,
        context,
        kek: input.kek,
        stream: type === STREAM_CONTENT_TYPE,
        requestSha256: await hashing,
      };
    }
    const refused = await refusal(res, base, context);
    if (refused.next === 'no') return refused.exchange;
    if (refused.next === 'replay') replayRefused = refused.exchange;
  }
  return replayRefused ?? { kind: 'no_worker' };
}

/**
 * The seal POSTed to one worker: its answer, 'skip' for a worker that cannot be reached or that
 * redirects, 'client_gone' when the client's signal ended the call.
 */
async function postSeal(
  input: { route: string; fetch: Fetcher; signal?: AbortSignal },
  base: string,
  text: string,
  rid: string,
): Promise<Response | 'skip' | 'client_gone'> {
  let res: Response;
  try {
    // A worker never redirects: a 3xx is the hop's (or a misconfigured proxy's), and following it
    // would send the seal to whatever it names (Fetch § 4.4 "HTTP-redirect fetch" resends a 307's
    // body). It is not followed; the seal goes to the next worker, as for one that is down.
    res = await input.fetch(`${base}${input.route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: `application/json, ${STREAM_CONTENT_TYPE}` },
      body: text,
      redirect: 'manual',
      ...(input.signal ? { signal: input.signal } : {}),
    });
  } catch (e) {
    if (input.signal?.aborted) return 'client_gone';
    log('warn', 'worker_unreachable', { worker: base, rid, message: (e as Error).message });
    return 'skip';
  }
  if (res.status < 300 || res.status >= 400) return res;
  await res.body?.cancel().catch(() => undefined);
  log('warn', 'worker_redirected', { worker: base, rid, status: res.status });
  return 'skip';
}

/**
 * A worker's refusal: what the client would get, and whether the next worker gets the seal
 * (`tryNext`; 'replay' too, remembered in case every worker refuses it so).
 *
 * A worker's `409 replay_detected` for a seal made here is tried on the next worker, with the same
 * seal; when every worker refuses it so, the client gets that 409. Safe because a worker refuses a
 * replay before the model is called (the guard claims an id after authentication, before the
 * model: src/envelope/request.ts), and this gateway sends a seal to each worker URL at most once
 * (`order`). So the refusing worker did not run it for this client: it restarted after the seal's
 * second (src/ai-worker/restart-replay-guard.ts), its clock is outside the seal's window, its
 * guard is full, or a copy of the request reached it first — that copy ran once for whoever sent
 * it. The bound is the worker's guard: one seal runs at most once per worker process, whoever
 * delivers it, and a refusal is no more trusted than the 5xx that already sends the same seal on.
 */
async function refusal(res: Response, base: string, context: RequestContext): Promise<Refused> {
  const rid = context.requestId;
  if (mediaType(res.headers.get('content-type')) === ERROR_CONTENT_TYPE) {
    return await sealedRefusal(res, base, context);
  }
  const { code, message } = await errorOf(res);
  // `key_expired` too: the worker's clock or key set is ahead of our copy — the same remedy.
  if (code === 'unknown_key' || code === 'key_expired') {
    log('warn', 'worker_unknown_key', { worker: base, rid, kid: context.kid, code });
    return { exchange: { kind: 'unknown_key' }, next: 'no' };
  }
  if (code !== null && !isPlainWorkerError(res.status, code)) {
    // The hop's text: logged as far as a code can be long (CODE_PATTERN, envelope/error-response.ts).
    const named = code.slice(0, 64);
    log('error', 'worker_error_rejected', {
      worker: base,
      rid,
      status: res.status,
      code: named,
      sealed: false,
    });
    return TAMPERED;
  }
  log('warn', 'worker_error', { worker: base, rid, status: res.status, code });
  const exchange: Exchange = {
    kind: 'error',
    code: isHttpErrorCode(code) ? code : 'upstream_unavailable',
    status: res.status,
    // A refusal (4xx) says why in the worker's own fixed words, so a client can fix it.
    message:
      res.status < 500 && code
        ? workerRefusalMessage(code, message)
        : `the AI worker refused the request (${code ?? res.status})`,
  };
  const replay = res.status === 409 && code === 'replay_detected';
  const next = replay ? 'replay' : tryNext(res.status, code) ? 'yes' : 'no';
  return { exchange, next };
}

type Refused = { exchange: Exchange; next: 'no' | 'yes' | 'replay' };

/** An error answer that is not the worker's as it sealed it: the client is told so, no one else tried. */
const TAMPERED: Refused = {
  exchange: {
    kind: 'error',
    code: 'upstream_tampered',
    status: HTTP_ERROR_CODES.upstream_tampered,
    message: 'the error answer from the AI worker did not authenticate',
  },
  next: 'no',
};

/**
 * A sealed refusal: it must open for this request, say the outer status, and name a code the worker
 * seals with exactly that code's status. Whether the next worker gets the seal is decided on the
 * opened status and code (`tryNext`). Its message is logged nowhere: it may quote the prompt.
 */
async function sealedRefusal(res: Response, base: string, context: RequestContext): Promise<Refused> {
  const where = { worker: base, rid: context.requestId, status: res.status };
  let bytes: Uint8Array | null;
  try {
    bytes = await readLimited(res.body, res.headers.get('content-length'), MAX_ERROR_BYTES);
  } catch (e) {
    // The body broke off (the connection, not its content): as a refusal that could not be read.
    log('warn', 'worker_error', { ...where, code: null, message: (e as Error).message });
    const exchange: Exchange = {
      kind: 'error',
      code: 'upstream_unavailable',
      status: res.status,
      message: `the AI worker refused the request (${res.status})`,
    };
    return { exchange, next: tryNext(res.status, null) ? 'yes' : 'no' };
  }
  let opened: Awaited<ReturnType<typeof openErrorResponse>>;
  try {
    if (bytes === null) throw new SealgateError('decryption_failed', 'sealed error: too large');
    opened = await openErrorResponse(context, utf8.decode(bytes));
  } catch (e) {
    log('error', 'worker_error_rejected', { ...where, sealed: true, message: (e as Error).message });
    return TAMPERED;
  }
  const { status, code, message } = opened;
  if (status !== res.status || !isSealedWorkerError(status, code)) {
    const named = isHttpErrorCode(code) ? code : 'unknown';
    log('error', 'worker_error_rejected', { ...where, sealed: true, code: named, sealedStatus: status });
    return TAMPERED;
  }
  log('warn', 'worker_error', { ...where, code, sealed: true });
  return { exchange: { kind: 'error', code, status, message }, next: tryNext(status, code) ? 'yes' : 'no' };
}

/** The media type of a Content-Type value, lower case, without parameters (RFC 9110 §8.3.1). */
function mediaType(value: string | null): string {
  return (value ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** A typed error for an upstream failure (every code used here is a 502 in `HTTP_ERROR_CODES`). */
export function upstreamError(code: HttpErrorCode, message: string, headers: Record<string, string>) {
  return new Response(JSON.stringify(errorBody(code, message)), {
    status: HTTP_ERROR_CODES[code],
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

/** A receipt that is missing, malformed or wrong says the answer is not the worker's as sent. */
export function isTampered(e: unknown): boolean {
  return (
    isSealgateError(e, 'decryption_failed') ||
    isSealgateError(e, 'attestation_rejected') ||
    isSealgateError(e, 'malformed_evidence')
  );
}

/**
 * Opens a sealed JSON answer: the OpenAI body, or a 502 typed error (nothing of the answer). With
 * `receipt`, the worker's receipt must verify first (receipt-check.ts); `meter` counts its usage.
 */
export async function openJsonAnswer(
  answer: Extract<Exchange, { kind: 'answer' }>,
  headers: Record<string, string>,
  receipt?: AnswerReceipt,
  meter?: UsageMeter,
): Promise<Response> {
  try {
    if (mediaType(answer.response.headers.get('content-type')) !== 'application/json') {
      throw new SealgateError('decryption_failed', 'the answer is neither sealed JSON nor a sealed stream');
    }
    // Counted as it arrives: a hop that streams gigabytes is cut at the bound, not held whole.
    const length = answer.response.headers.get('content-length');
    const bytes = await readLimited(answer.response.body, length, MAX_ANSWER_BYTES);
    if (bytes === null) throw new Error('answer too large');
    const kept = await receipt?.checkJson(bytes, answer.response.headers.get(RECEIPT_HEADER));
    const text = utf8.decode(bytes);
    const body = await openResponse(answer.context, text);
    meter?.json(body);
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...headers,
        ...keptReceiptHeader(answer.context.requestId, kept),
      },
    });
  } catch (e) {
    const code = isTampered(e) ? 'upstream_tampered' : 'upstream_unavailable';
    log('error', 'answer_rejected', { rid: answer.context.requestId, code, message: (e as Error).message });
    return upstreamError(code, 'the answer from the AI worker did not authenticate', headers);
  }
}

/**
 * The kept receipt as a response header (receipts/kept-receipt.ts), when it fits the bound that
 * keeps the answer's header section under the 16 KiB Node's HTTP clients accept; a larger one (a
 * worker certificate far larger than any our services issue) is left out and logged — the answer
 * already verified, only the client's copy of its receipt is lost.
 */
function keptReceiptHeader(rid: string, kept: string | undefined): Record<string, string> {
  if (kept === undefined) return {};
  if (kept.length <= MAX_KEPT_RECEIPT_LENGTH) return { [KEPT_RECEIPT_HEADER]: kept };
  log('error', 'receipt_too_large_for_header', { rid, length: kept.length });
  return {};
}
