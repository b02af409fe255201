/**
 * Which of a worker's error codes come sealed and which plain (docs/errors.md "Worker errors: sealed
 * and plain"). The split is by when the worker can refuse: before it opened the request it holds
 * no key of it and can only answer plainly, with a fixed text; once it opened it, every refusal is
 * sealed under the request's response key (src/envelope/error-response.ts). The sets are closed:
 * the gateway refuses a plain error with a code not in PLAIN and a sealed one with a code not in
 * SEALED, or either with a status other than its code's (all `upstream_tampered`). `internal_error`
 * is in both: a worker can fail unexpectedly before it opened a request and after.
 */
import { HTTP_ERROR_CODES, type HttpErrorCode } from './errors.js';

/** Codes a worker answers only after it opened the request: always sealed. */
export const SEALED_WORKER_ERRORS: ReadonlySet<HttpErrorCode> = new Set<HttpErrorCode>([
  'invalid_request',
  'model_not_found',
  'model_error',
  'upstream_unavailable',
  'internal_error',
]);

/** Codes a worker answers before it could open the request: plain, with fixed texts. */
export const PLAIN_WORKER_ERRORS: ReadonlySet<HttpErrorCode> = new Set<HttpErrorCode>([
  'not_ready',
  'unsupported_media_type',
  'payload_too_large',
  'invalid_json',
  'decryption_failed',
  'unknown_key',
  'key_expired',
  'replay_detected',
  'not_found',
  'method_not_allowed',
  'internal_error',
]);

/**
 * Whether a plain error may be the worker's: a code it answers plainly, with exactly that code's
 * status. Any other — a code that may only come sealed, one no worker answers (`invalid_api_key`,
 * `rate_limited` …), a status that is not the code's — was written by whoever sits on the hop.
 */
export function isPlainWorkerError(status: number, code: string): code is HttpErrorCode {
  return PLAIN_WORKER_ERRORS.has(code as HttpErrorCode) && HTTP_ERROR_CODES[code as HttpErrorCode] === status;
}

/** Whether a sealed error's status and code agree: a sealed code, and exactly its status. */
export function isSealedWorkerError(status: number, code: string): code is HttpErrorCode {
  return (
    SEALED_WORKER_ERRORS.has(code as HttpErrorCode) && HTTP_ERROR_CODES[code as HttpErrorCode] === status
  );
}
