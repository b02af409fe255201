/** Test helpers for the worker: sealing like the gateway does, and opening sealed answers. */
import type { Hono } from 'hono';
import { expect } from 'vitest';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { ERROR_CONTENT_TYPE, openErrorResponse } from '../../src/envelope/error-response.js';
import { type SealedRequest, sealRequest } from '../../src/envelope/request.js';
import { openResponse } from '../../src/envelope/response.js';
import { createStreamOpener, STREAM_CONTENT_TYPE } from '../../src/envelope/stream.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { WORKER_CERTIFICATE_HEADER } from '../../src/receipts/receipt.js';
import type { Json } from '../model/json.js';

export const T = 1_767_225_600;
let counter = 0;

export function kekAt(notBefore = T - 60, notAfter = T + 3600): Promise<Kek> {
  return createKek({ notBefore, notAfter });
}

export async function seal(
  kek: Kek,
  route: string,
  body: Record<string, unknown>,
  now = T,
): Promise<{ sealed: SealedRequest; context: RequestContext }> {
  counter++;
  return sealRequest({ kek, route, requestId: `req-${counter}`, body, now });
}

/** POSTs a JSON body (sealed or not) with `app.request` or to a URL with fetch. */
export function post(
  target: Hono | string,
  route: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) {
  const init = {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  };
  return typeof target === 'string' ? fetch(`${target}${route}`, init) : target.request(route, init);
}

/** Expects an OpenAI error JSON with `status` and `code`; returns its message. */
export async function expectError(response: Response, status: number, code: string): Promise<string> {
  const body = (await response.json()) as { error: { message: string; type: string; code: string } };
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  expect(typeof body.error.message).toBe('string');
  return body.error.message;
}

/**
 * A refusal sealed under the request's response key (docs/protocol.md "Sealed error answer"): its
 * media type, the outer status equal to the sealed one, the code; returns the sealed message.
 */
export async function expectSealedError(
  response: Response,
  context: RequestContext,
  status: number,
  code: string,
): Promise<string> {
  expect(response.headers.get('content-type')).toBe(ERROR_CONTENT_TYPE);
  const text = await response.text();
  expect(text).not.toContain(code); // nothing of it in the clear
  const opened = await openErrorResponse(context, text);
  expect({ outer: response.status, status: opened.status, code: opened.code }).toEqual({
    outer: status,
    status,
    code,
  });
  return opened.message;
}

export async function openJson(response: Response, context: RequestContext): Promise<Record<string, Json>> {
  expect(response.status).toBe(200);
  return openResponse(context, await response.text());
}

export interface OpenedStream {
  /** Decrypted chunks, in order (without the end frame). */
  chunks: string[];
  /** The records as sent (head and payload each), the end record last; no header, no trailer. */
  frames: Uint8Array[];
  /** The record type of each of `frames` (0 data, 1 end). */
  types: number[];
  /** The body's bytes under the receipt's stream hash: the header through the end record. */
  hashed: Uint8Array;
  /** The receipt trailer's compact JWS after the end record, when the worker signs receipts. */
  trailer?: string;
  /** Set when the stream failed to open or was cut (e.g. stream_truncated). */
  error?: { code: string; message: string };
}

/**
 * Reads a sealed stream answer (format 3) as the gateway does: each network read pushed to the
 * opener, a receipt trailer expected when the worker names its certificate.
 */
export async function openSse(
  response: Response,
  context: RequestContext,
  onChunk?: (chunk: string, index: number) => void,
): Promise<OpenedStream> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(STREAM_CONTENT_TYPE);
  const trailer = response.headers.has(WORKER_CERTIFICATE_HEADER);
  const opener = createStreamOpener(context, { trailer });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const out: OpenedStream = { chunks: [], frames: [], types: [], hashed: new Uint8Array(0) };
  const hashed: Uint8Array[] = [];
  try {
    const reader = response.body!.getReader();
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      const progress = await opener.push(next.value, (events) => {
        for (const e of events) {
          out.chunks.push(decoder.decode(e));
          onChunk?.(out.chunks.at(-1)!, out.chunks.length - 1);
        }
      });
      hashed.push(progress.hashed);
      out.trailer = progress.trailer;
    }
    opener.finish();
  } catch (e) {
    const err = e as { code: string; message: string };
    out.error = { code: err.code, message: err.message };
  }
  out.hashed = Uint8Array.from(hashed.flatMap((h) => [...h]));
  // The records after the 36-byte header, split by their heads.
  for (let at = 36; at + 5 <= out.hashed.length; ) {
    const length = new DataView(out.hashed.buffer, at + 1).getUint32(0);
    out.types.push(out.hashed[at]!);
    out.frames.push(out.hashed.subarray(at, at + 5 + length));
    at += 5 + length;
  }
  return out;
}
