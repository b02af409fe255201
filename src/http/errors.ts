/**
 * The one HTTP error model of Sealgate's three services: OpenAI's error JSON
 * (`{"error": {"message", "type", "param", "code"}}`) with `code` from a closed set. Clients act on
 * the code; the message is for people. Why evidence was rejected, which check failed, which key
 * was looked up: logs, never the response (docs/errors.md).
 *
 * Runtime-neutral (plain `Response`), so the gateway on workerd and both Node services share it.
 */
import { type ErrorCode, isSealgateError } from '../errors.js';

export const HTTP_ERROR_CODES = {
  // request problems
  invalid_request: 400,
  invalid_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  invalid_api_key: 401,
  not_found: 404,
  method_not_allowed: 405,
  model_not_found: 404,
  rate_limited: 429,
  /** A key over its request or token rate (gateway limits, OpenAI's code). */
  rate_limit_exceeded: 429,
  /** A key over its token budget (OpenAI's code; not worth retrying before the period ends). */
  insufficient_quota: 429,
  // envelope and keys
  decryption_failed: 400,
  unknown_key: 409,
  key_expired: 409,
  replay_detected: 409,
  stream_truncated: 502,
  upstream_tampered: 502,
  // attestation
  attestation_rejected: 403,
  certificate_rejected: 401,
  gateway_unauthenticated: 401,
  // availability
  not_ready: 503,
  no_attested_service: 503,
  no_worker_available: 503,
  upstream_unavailable: 502,
  model_error: 502,
  internal_error: 500,
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;

const TYPE_BY_STATUS = (status: number): string =>
  status === 401
    ? 'authentication_error'
    : status === 429
      ? 'rate_limit_error'
      : status >= 500
        ? 'server_error'
        : 'invalid_request_error';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: HttpErrorCode };
}

export function errorBody(
  code: HttpErrorCode,
  message: string,
  param: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type: TYPE_BY_STATUS(HTTP_ERROR_CODES[code]), param, code } };
}

/** Seconds a client waits before retrying a 503 that names none (RFC 9110 §10.2.3). */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** Every 503 carries `Retry-After` (RFC 9110 §15.6.4): the caller's, else the default. */
export function errorResponse(
  code: HttpErrorCode,
  message: string,
  init: { param?: string | null; headers?: Record<string, string> } = {},
): Response {
  const status = HTTP_ERROR_CODES[code];
  const retry: Record<string, string> =
    status === 503 ? { 'retry-after': String(DEFAULT_RETRY_AFTER_SECONDS) } : {};
  return new Response(JSON.stringify(errorBody(code, message, init.param ?? null)), {
    status,
    headers: { 'content-type': 'application/json', ...retry, ...init.headers },
  });
}

/** The HTTP code for a domain error; anything unexpected is `internal_error` (and is logged). */
export function httpCodeFor(e: unknown): HttpErrorCode {
  if (!isSealgateError(e)) return 'internal_error';
  const map: Partial<Record<ErrorCode, HttpErrorCode>> = {
    decryption_failed: 'decryption_failed',
    unknown_key: 'unknown_key',
    key_expired: 'key_expired',
    replay_detected: 'replay_detected',
    stream_truncated: 'stream_truncated',
    attestation_rejected: 'attestation_rejected',
    invalid_argument: 'invalid_request',
    malformed_evidence: 'invalid_request',
    malformed_certificate: 'invalid_request',
    invalid_manifest: 'invalid_request',
    fetch_failed: 'upstream_unavailable',
    model_error: 'model_error',
    model_not_found: 'model_not_found',
  };
  return map[e.code] ?? 'internal_error';
}

export function isHttpErrorCode(x: unknown): x is HttpErrorCode {
  return typeof x === 'string' && Object.hasOwn(HTTP_ERROR_CODES, x);
}
