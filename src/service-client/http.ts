/**
 * JSON over an injected `fetch`, for calling Sealgate's services from any runtime (the gateway's
 * Durable Object in workerd, Node, tests with `app.request`). Failures become `SealgateError`s:
 *
 * - the network (fetch threw, aborted) → `fetch_failed`, `detail.status` 0;
 * - an error answer (OpenAI error JSON, docs/services.md "Errors") → the domain code when the
 *   service's code has one (`attestation_rejected`, `decryption_failed`, `key_expired`,
 *   `unknown_key`), else `fetch_failed`; `detail` carries `status` and the service's `code`, and
 *   `retryAfter` (seconds) when the answer has a `retry-after` of delay-seconds (RFC 9110 §10.2.3:
 *   the service's `429 rate_limited`), for the caller to wait no less;
 * - an answer that is not a JSON object within `maxBytes` → `fetch_failed`.
 */

import { SealgateError } from '../errors.js';
import { readLimited } from '../http/read-limited.js';
import { isRecord } from '../json/object-guards.js';
import { parseStrictJson } from '../json/strict-json.js';

/** What the client needs of `fetch` (the global one fits, as does a Hono app's `request`). */
export type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

export const DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024;

const PASSED_THROUGH = new Set(['attestation_rejected', 'decryption_failed', 'key_expired', 'unknown_key']);

export interface CallOptions {
  baseUrl: string;
  fetch: Fetcher;
  signal?: AbortSignal;
}

/** Extra request headers for one call (e.g. the gateway's signature on an attestation request). */
export type CallHeaders = Readonly<Record<string, string>>;

/** `baseUrl` (absolute http(s), trailing slashes ignored) joined with `path`. */
export function serviceUrl(baseUrl: string, path: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new SealgateError('invalid_argument', 'service client: baseUrl must be an absolute http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new SealgateError('invalid_argument', 'service client: baseUrl must be an absolute http(s) URL');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}${path}`;
}

export async function callJson(
  opts: CallOptions,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  maxBytes = DEFAULT_MAX_ANSWER_BYTES,
  extraHeaders: CallHeaders = {},
): Promise<Record<string, unknown>> {
  const url = serviceUrl(opts.baseUrl, path);
  if (typeof opts.fetch !== 'function')
    throw new SealgateError('invalid_argument', 'service client: fetch is required');
  let res: Response;
  try {
    res = await opts.fetch(url, {
      method,
      headers:
        body === undefined
          ? { ...extraHeaders, accept: 'application/json' }
          : { ...extraHeaders, accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (cause) {
    throw new SealgateError(
      'fetch_failed',
      `service client: ${method} ${path}: unreachable`,
      { url, status: 0 },
      { cause },
    );
  }
  const answer = await readAnswer(res, maxBytes, url, path);
  if (!res.ok) {
    const error = (answer as { error?: { code?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : null;
    const retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
    const detail = { url, status: res.status, code, ...(retryAfter === undefined ? {} : { retryAfter }) };
    if (code !== null && PASSED_THROUGH.has(code)) {
      throw new SealgateError(code as 'attestation_rejected', `service client: ${path}: ${code}`, detail);
    }
    throw new SealgateError(
      'fetch_failed',
      `service client: ${path}: HTTP ${res.status} ${code ?? ''}`.trim(),
      detail,
    );
  }
  if (answer === undefined) {
    throw new SealgateError('fetch_failed', `service client: ${path}: answer is not a JSON object`, {
      url,
      status: res.status,
    });
  }
  return answer;
}

/**
 * A `retry-after` of delay-seconds (RFC 9110 §10.2.3: `1*DIGIT`), at most a day; anything else
 * (an HTTP-date, which the service never sends, or garbage) is none.
 */
function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null || !/^[0-9]{1,5}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 86_400 ? n : undefined;
}

/** The answer as a JSON object, or undefined when it is not one (error answers may be anything). */
async function readAnswer(
  res: Response,
  maxBytes: number,
  url: string,
  path: string,
): Promise<Record<string, unknown> | undefined> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readLimited(res.body, null, maxBytes);
  } catch (cause) {
    throw new SealgateError(
      'fetch_failed',
      `service client: ${path}: answer cut off`,
      { url, status: res.status },
      { cause },
    );
  }
  if (bytes === null) {
    throw new SealgateError('fetch_failed', `service client: ${path}: answer larger than ${maxBytes} bytes`, {
      url,
      status: res.status,
    });
  }
  try {
    const value = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
