/**
 * The body of a sealed request: a JSON object with a string `model`, read with a byte limit that
 * is counted as it streams (a `content-length` over the limit is refused early, but never trusted
 * to be under it), UTF-8 (RFC 8259 §8.1), nesting at most MAX_REQUEST_JSON_DEPTH levels, every
 * number within double range (http/json-depth.ts: the sealed body is written anew, and must say
 * what the client's said). A number beyond ±(2^53 − 1) is kept as the client wrote it
 * (json/exact-numbers.ts): the text is parsed a second time, with a reviver, only when the walk
 * found one — a reviver costs 4–10× a plain parse, and almost no body has such a number. Every
 * refusal is OpenAI's error JSON (415, 413, 400; 400 too for a body that breaks off:
 * http/read-limited.ts readRequestBody).
 */
import { isSealgateError } from '../../../errors.js';
import { errorResponse, type HttpErrorCode } from '../../../http/errors.js';
import { isJsonContentType } from '../../../http/json-content-type.js';
import { jsonShapeProblem, MAX_REQUEST_JSON_DEPTH } from '../../../http/json-depth.js';
import { readRequestBody } from '../../../http/read-limited.js';
import { parseKeepingExactNumbers } from '../../../json/exact-numbers.js';
import { isRecord } from '../../../json/object-guards.js';

type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

/** The request's JSON object, read with a byte limit (counted as it streams, not trusted from headers). */
export async function readJsonBody(request: Request, maxBytes: number): Promise<BodyResult> {
  const fail = (code: HttpErrorCode, message: string): BodyResult => ({
    ok: false,
    response: errorResponse(code, message),
  });
  if (!isJsonContentType(request.headers.get('content-type'))) {
    return fail('unsupported_media_type', 'the body must be application/json (UTF-8)');
  }
  const read = await readRequestBody(request, maxBytes);
  if (!read.ok) return read;
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(read.bytes);
    value = JSON.parse(text);
  } catch {
    return fail('invalid_json', 'the body is not JSON');
  }
  if (!isRecord(value)) {
    return fail('invalid_request', 'the body must be a JSON object');
  }
  const problem = jsonShapeProblem(value, MAX_REQUEST_JSON_DEPTH);
  if (problem === 'too_deep') {
    return fail('invalid_request', `the body nests deeper than ${MAX_REQUEST_JSON_DEPTH} levels`);
  }
  if (problem === 'non_finite_number') {
    return fail('invalid_request', 'a number in the body is beyond IEEE 754 double range (RFC 7493 §2.2)');
  }
  if (problem === 'inexact_number') {
    const exact = keepExactNumbers(text);
    if (exact === null) return fail('invalid_request', 'a number in the body cannot be carried exactly');
    value = exact;
  }
  if (typeof (value as { model?: unknown }).model !== 'string') {
    return fail('invalid_request', 'model is required');
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** `text` parsed again with its numbers beyond ±(2^53 − 1) as written; null if it cannot be. */
function keepExactNumbers(text: string): unknown {
  try {
    return parseKeepingExactNumbers(text);
  } catch (e) {
    if (isSealgateError(e, 'invalid_argument')) return null;
    throw e;
  }
}
