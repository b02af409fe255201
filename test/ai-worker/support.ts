/** Test helpers for the worker: sealing like the gateway does, and opening sealed answers. */
import type { Hono } from 'hono';
import { expect } from 'vitest';
import type { RequestContext } from '../../src/envelope/data-key.js';
import { type SealedRequest, sealRequest } from '../../src/envelope/request.js';
import { openResponse } from '../../src/envelope/response.js';
import { createStreamOpener } from '../../src/envelope/stream.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { parseSseStream } from '../../src/model/sse.js';
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

export async function openJson(response: Response, context: RequestContext): Promise<Record<string, Json>> {
  expect(response.status).toBe(200);
  return openResponse(context, await response.text());
}

export interface OpenedStream {
  /** Decrypted chunks, in order (without the end frame). */
  chunks: string[];
  /** The frames as sent (SSE data). */
  frames: string[];
  /** The receipt trailer event's data after the end frame, when the worker signs receipts. */
  trailer?: string;
  /** Set when the stream failed to open or was cut (e.g. stream_truncated). */
  error?: { code: string; message: string };
}

/** Reads a sealed SSE response frame by frame through the stream opener (as the gateway does). */
export async function openSse(
  response: Response,
  context: RequestContext,
  onChunk?: (chunk: string, index: number) => void,
): Promise<OpenedStream> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const opener = createStreamOpener(context);
  const out: OpenedStream = { chunks: [], frames: [] };
  try {
    let ended = false;
    for await (const event of parseSseStream(response.body!)) {
      // After the end frame: the receipt trailer (docs/protocol.md "Receipts"), once; not a frame.
      if (ended && out.trailer === undefined && event.data.startsWith('{"receipt":')) {
        out.trailer = event.data;
        continue;
      }
      out.frames.push(event.data);
      const events = await opener.open(event.data);
      if (events !== null) {
        for (const chunk of events) {
          out.chunks.push(chunk);
          onChunk?.(chunk, out.chunks.length - 1);
        }
      } else ended = true;
    }
    await opener.finish();
  } catch (e) {
    const err = e as { code: string; message: string };
    out.error = { code: err.code, message: err.message };
  }
  return out;
}
