/**
 * Anthropic's error JSON (API reference: "Errors"):
 * `{"type": "error", "error": {"type": "<error type>", "message": "…"}}`, the error type chosen by
 * HTTP status as Anthropic does. Sealgate adds `error.code`, its own closed code (docs/errors.md),
 * which the Anthropic SDKs ignore and a client may act on.
 */
import { HTTP_ERROR_CODES, type HttpErrorCode } from '../../http/errors.js';

export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string; code: HttpErrorCode };
}

export function anthropicErrorBody(code: HttpErrorCode, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(HTTP_ERROR_CODES[code]), message, code } };
}
