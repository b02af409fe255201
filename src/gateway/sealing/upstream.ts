/**
 * The sealed exchange with the AI workers (docs/protocol.md): seal the OpenAI body under the
 * current KEK, POST it to a worker (in turn from WORKER_URLS; an unreachable or unavailable worker
 * is skipped), and open what comes back — one sealed JSON answer, or a sealed SSE stream frame by
 * frame. Nothing unsealed ever leaves the gateway, and nothing reaches the client that did not
 * authenticate: a stream that breaks ends with an OpenAI error event after the last verified
 * chunk, and OpenAI's `[DONE]` is held back until the end frame verified, so a cut stream can
 * never look complete.
 */
import { toHex, utf8 } from '../../bytes.js';
import type { RequestContext } from '../../envelope/data-key.js';
import { sealRequest } from '../../envelope/request.js';
import { openResponse } from '../../envelope/response.js';
import { createStreamOpener } from '../../envelope/stream.js';
import { isSealgateError } from '../../errors.js';
import { errorBody, HTTP_ERROR_CODES, type HttpErrorCode, isHttpErrorCode } from '../../http/errors.js';
import type { Kek } from '../../keys/kek.js';
import { encodeSseEvent, SseParser } from '../../model/sse.js';
import { SSE_DONE } from '../../model/types.js';
import { bodySha256, RECEIPT_HEADER } from '../../receipts/receipt.js';
import type { Fetcher } from '../../service-client/http.js';
import { nowSeconds } from '../clock.js';
import { log } from '../log.js';
import { byteStreamPipe } from './byte-pipe.js';
import type { AnswerReceipt } from './receipt-check.js';

/** Largest sealed JSON answer read from a worker (an embeddings batch can be big). */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

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
  | { kind: 'no_worker' };

let nextWorker = 0;

/** Workers in the order to try them: rotating start (spreads load), then the rest in turn. */
function order(urls: readonly string[]): string[] {
  const start = nextWorker++ % Math.max(1, urls.length);
  return [...urls.slice(start), ...urls.slice(0, start)];
}

function requestId(): string {
  return `gw-${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

async function errorCodeOf(res: Response): Promise<string | null> {
  try {
    const body = (await res.json()) as { error?: { code?: unknown } };
    return typeof body?.error?.code === 'string' ? body.error.code : null;
  } catch {
    return null;
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
  const requestSha256 = await bodySha256(utf8.encode(text));
  for (const base of order(input.workerUrls)) {
    let res: Response;
    try {
      res = await input.fetch(`${base}${input.route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: text,
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } catch (e) {
      log('warn', 'worker_unreachable', { worker: base, rid, message: (e as Error).message });
      continue;
    }
    if (res.ok) {
      const type = res.headers.get('content-type') ?? '';
      return {
        kind: 'answer',
        response: res,
        context,
        kek: input.kek,
        stream: type.startsWith('text/event-stream'),
        requestSha256,
      };
    }
    const code = await errorCodeOf(res);
    // `key_expired` too: the worker's clock or key set is ahead of our copy — the same remedy.
    if (code === 'unknown_key' || code === 'key_expired') {
      log('warn', 'worker_unknown_key', { worker: base, rid, kid: input.kek.kid, code });
      return { kind: 'unknown_key' };
    }
    log('warn', 'worker_error', { worker: base, rid, status: res.status, code });
    if (tryNext(res.status, code)) continue;
    return {
      kind: 'error',
      code: isHttpErrorCode(code) ? code : 'upstream_unavailable',
      status: res.status,
      message: `the AI worker refused the request (${code ?? res.status})`,
    };
  }
  return { kind: 'no_worker' };
}

/** A typed error for an upstream failure (every code used here is a 502 in `HTTP_ERROR_CODES`). */
export function upstreamError(code: HttpErrorCode, message: string, headers: Record<string, string>) {
  return new Response(JSON.stringify(errorBody(code, message)), {
    status: HTTP_ERROR_CODES[code],
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

/** A receipt that is missing, malformed or wrong says the answer is not the worker's as sent. */
function isTampered(e: unknown): boolean {
  return (
    isSealgateError(e, 'decryption_failed') ||
    isSealgateError(e, 'attestation_rejected') ||
    isSealgateError(e, 'malformed_evidence')
  );
}

/**
 * Opens a sealed JSON answer: the OpenAI body, or a 502 typed error (nothing of the answer). With
 * `receipt`, the worker's receipt must verify first (receipt-check.ts).
 */
export async function openJsonAnswer(
  answer: Extract<Exchange, { kind: 'answer' }>,
  headers: Record<string, string>,
  receipt?: AnswerReceipt,
): Promise<Response> {
  try {
    const declared = Number(answer.response.headers.get('content-length') ?? 0);
    if (declared > MAX_ANSWER_BYTES) throw new Error('answer too large');
    const bytes = new Uint8Array(await answer.response.arrayBuffer());
    if (bytes.length > MAX_ANSWER_BYTES) throw new Error('answer too large');
    await receipt?.checkJson(bytes, answer.response.headers.get(RECEIPT_HEADER));
    const text = utf8.decode(bytes);
    const body = await openResponse(answer.context, text);
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    });
  } catch (e) {
    const code = isTampered(e) ? 'upstream_tampered' : 'upstream_unavailable';
    log('error', 'answer_rejected', { rid: answer.context.requestId, code, message: (e as Error).message });
    return upstreamError(code, 'the answer from the AI worker did not authenticate', headers);
  }
}

/**
 * Opens a sealed SSE stream as the client reads it. Each round takes ONE read of the worker's body
 * (not one frame), opens every frame completed in it, in order, and hands the client their events
 * as one chunk. Per-chunk costs downstream (the runtime's stream plumbing, a proxy in front of the
 * Worker, the socket) are then paid per network read instead of per frame — the frames a worker
 * wrote in one burst go out together, a lone frame goes out at once. Only frames whose tag verified
 * are released, strictly in order, and nothing after the first failure.
 *
 * Pushed into workerd's native byte pipe (`IdentityTransformStream`), not pulled through a
 * JavaScript `ReadableStream`: workerd pumps a JS-backed body by chaining a promise per pull that
 * settles only when the stream ends — about two Promises and their reactions per network read held
 * for the stream's life (a heap snapshot showed a chain 14 600 deep, rooted in a global handle,
 * 60 MiB into a 100 MiB stream; `npm run bench`, "Gateway memory"). The pipe has no queue: a write
 * resolves once the client's side took the chunk, so nothing piles up here (at most one network
 * read of the worker's body is held) and a slow client still slows the worker. A client that goes
 * away fails the pending write; the worker's body is then cancelled.
 */
export function openStreamAnswer(
  answer: Extract<Exchange, { kind: 'answer' }>,
  headers: Record<string, string>,
  receipt?: AnswerReceipt,
): Response {
  const body = answer.response.body;
  const rid = answer.context.requestId;
  const opener = createStreamOpener(answer.context);
  const reader = body ? body.getReader() : undefined;
  // As parseSseStream (src/model/sse.ts): UTF-8 with U+FFFD for bad bytes; the parser strips the BOM.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const parser = new SseParser();
  const encoder = new TextEncoder();
  const pipe = byteStreamPipe();
  const writer = pipe.writable.getWriter();
  const release = () => reader?.cancel().catch(() => undefined);
  /** The client's side is gone (cancelled, disconnected): nothing more can be sent. */
  let clientGone = false;
  const send = async (text: string) => {
    try {
      await writer.write(encoder.encode(text));
    } catch (e) {
      clientGone = true;
      throw e;
    }
  };

  const pump = async () => {
    let heldDone = false;
    /** The end frame verified; with a receipt expected, its trailer is the next event. */
    let ended = false;
    // The client's events of this read, in order; each one only after its frame verified.
    let out = '';
    const complete = async () => {
      if (heldDone) out += encodeSseEvent(SSE_DONE);
      if (out) await send(out);
      await release();
      await writer.close();
    };
    try {
      if (!reader) throw Object.assign(new Error('no body'), { code: 'stream_truncated' });
      for (;;) {
        const next = await reader.read();
        if (next.done) {
          parser.push(decoder.decode()); // a final partial line cannot complete an event
          if (ended) {
            await receipt?.checkStream(undefined); // throws: the end frame came, its receipt did not
            throw new Error('sealed stream: a receipt check passed without a receipt');
          }
          await opener.finish(); // throws stream_truncated: the end frame returns below, never here
          throw new Error('sealed stream: transport ended in an impossible state');
        }
        for (const event of parser.push(decoder.decode(next.value, { stream: true }))) {
          if (ended) {
            // The receipt trailer follows the end frame; [DONE] only once it verified.
            await receipt?.checkStream(event.data);
            return await complete();
          }
          receipt?.frame(event.data);
          const chunk = await opener.open(event.data);
          if (chunk === null) {
            // End frame verified: the answer is known complete (once its receipt verified, if any).
            ended = true;
            if (receipt) continue;
            return await complete();
          }
          if (chunk === SSE_DONE) {
            heldDone = true;
            continue;
          }
          out += encodeSseEvent(chunk);
        }
        if (out) {
          const text = out;
          out = '';
          await send(text); // resolves once the client took it: the next read waits for that
        }
        // else only part of a frame so far: read on.
      }
    } catch (e) {
      await release();
      if (clientGone) {
        await writer.abort().catch(() => undefined);
        return;
      }
      const code: HttpErrorCode = isSealgateError(e, 'stream_truncated')
        ? 'stream_truncated'
        : isTampered(e)
          ? 'upstream_tampered'
          : 'upstream_unavailable';
      log('error', 'stream_rejected', { rid, code, message: (e as Error).message });
      const message = 'the stream from the AI worker was cut or did not authenticate';
      // The frames of this read that verified before the failure, then the error event.
      out += encodeSseEvent(JSON.stringify(errorBody(code, message)));
      try {
        await send(out);
        await writer.close();
      } catch {
        await writer.abort().catch(() => undefined);
      }
    }
  };
  // Runs for as long as the response body is being sent: workerd keeps the request's context alive
  // while its body is open, and every failure is handled inside (no rejection escapes).
  void pump();
  const stream = pipe.readable;
  return new Response(stream, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
  });
}
