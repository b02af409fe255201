/**
 * The request body's content coding (RFC 9110 §8.4). The gateway reads bodies as they are sent
 * and decodes none: a body sent with `Content-Encoding: gzip` would be read as garbage (a
 * misleading `invalid_json`), and one labelled `br` but sent plain would be served as if the label
 * were not there. Either way the bytes we seal are not what the client meant, so any coding but
 * `identity` is refused with 415, saying with `Accept-Encoding: identity` what is taken
 * (RFC 9110 §15.5.16, §12.5.3).
 */
import { errorResponse } from './errors.js';

/** True when the body carries no content coding: no header, or only `identity` (any case). */
export function isIdentityCoding(header: string | null): boolean {
  if (header === null) return true;
  return header.split(',').every((c) => c.trim().toLowerCase() === 'identity' || c.trim() === '');
}

/**
 * True when the body's transfer coding is none or `chunked` alone. Node decodes `chunked` and no
 * other transfer coding (RFC 9112 §6.1): a body labelled `gzip, chunked` reaches a Node service
 * gzip-coded or, sent plain, is read as if the label were not there.
 * (RFC 9112 §6.1 would have 501; the closed set's 415 says the same as for a content coding.)
 */
export function isPlainTransferCoding(header: string | null): boolean {
  return header === null || header.trim().toLowerCase() === 'chunked';
}

/** The 415 for a body in a content coding. */
export function contentCodingRefused(): Response {
  return errorResponse('unsupported_media_type', 'the body must not be content-encoded (identity only)', {
    headers: { 'accept-encoding': 'identity' },
  });
}
