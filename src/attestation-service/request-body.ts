/**
 * Reading a JSON request body at the service's boundary, strictly and with a size limit:
 *
 * - `content-type` must be `application/json`, UTF-8 if a charset is named
 *   (src/http/json-content-type.ts), with no content coding but `identity` and no transfer
 *   coding but `chunked` → `unsupported_media_type`;
 * - at most `maxBytes`, checked on `content-length` when present and while reading (a chunked body
 *   has none) → `payload_too_large`; cut short, or (where the route sets one) not whole by a
 *   deadline → `invalid_request`;
 * - UTF-8 (fatal decoding) and I-JSON (RFC 7493: duplicate member names, lone surrogates and
 *   out-of-range numbers refused, by src/json/strict-json.ts) → `invalid_json`;
 * - a JSON object holding exactly `fields` → `invalid_request` naming the first missing or
 *   unknown field.
 *
 * Problems come back as a ready error `Response` (OpenAI error JSON, src/http/errors.ts), not as
 * exceptions: each is an expected outcome of a hostile or broken client.
 */
import { contentCodingRefused, isIdentityCoding, isPlainTransferCoding } from '../http/content-coding.js';
import { errorResponse } from '../http/errors.js';
import { isJsonContentType } from '../http/json-content-type.js';
import { isContentLengthSyntax, readLimited } from '../http/read-limited.js';
import { isRecord } from '../json/object-guards.js';
import { describeProblems, jsonProblems, parseStrictJson } from '../json/strict-json.js';
import { decodeBase64UrlField } from '../keys/encoding.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; response: Response };

const fail = (response: Response): { ok: false; response: Response } => ({ ok: false, response });

/**
 * The body, counted as it arrives. A body that breaks off (the client's stream failed, or its
 * connection closed short of its `content-length`) or does not arrive whole within `deadlineMs` is
 * the client's failure, `400 invalid_request`, never a 500 `internal_error` logged as the
 * service's fault.
 */
async function readBody(req: Request, maxBytes: number, deadlineMs?: number): Promise<Checked<Uint8Array>> {
  const declared = req.headers.get('content-length');
  if (declared !== null && !isContentLengthSyntax(declared)) {
    return fail(errorResponse('invalid_request', 'content-length is not a number'));
  }
  const signal = deadlineMs === undefined ? undefined : AbortSignal.timeout(deadlineMs);
  // Aborting the pipe errors the stream readLimited reads, which then rejects.
  const body = signal && req.body ? req.body.pipeThrough(new TransformStream(), { signal }) : req.body;
  let bytes: Uint8Array | null;
  try {
    bytes = await readLimited(body, declared, maxBytes);
  } catch {
    const why = signal?.aborted ? `did not arrive within ${deadlineMs} ms` : 'broke off before its end';
    return fail(errorResponse('invalid_request', `the request body ${why}`));
  }
  if (bytes === null)
    return fail(errorResponse('payload_too_large', `request body larger than ${maxBytes} bytes`));
  return { ok: true, value: bytes };
}

export async function readJsonObject(
  req: Request,
  opts: { maxBytes: number; fields: readonly string[]; deadlineMs?: number },
): Promise<Checked<Record<string, unknown>>> {
  if (!isJsonContentType(req.headers.get('content-type'))) {
    return fail(errorResponse('unsupported_media_type', 'content-type must be application/json'));
  }
  if (
    !isIdentityCoding(req.headers.get('content-encoding')) ||
    !isPlainTransferCoding(req.headers.get('transfer-encoding'))
  ) {
    return fail(contentCodingRefused());
  }
  const body = await readBody(req, opts.maxBytes, opts.deadlineMs);
  if (!body.ok) return body;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body.value);
  } catch {
    return fail(errorResponse('invalid_json', 'request body is not UTF-8'));
  }
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (e) {
    const first = (jsonProblems(e) ?? []).slice(0, 1);
    const where = first.length > 0 ? describeProblems(first) : 'unparseable';
    return fail(errorResponse('invalid_json', `request body is not valid JSON (${where})`));
  }
  if (!isRecord(value)) {
    return fail(errorResponse('invalid_request', 'request body must be a JSON object'));
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!opts.fields.includes(key))
      return fail(errorResponse('invalid_request', `unknown field ${key}`, { param: key }));
  }
  for (const key of opts.fields) {
    if (!Object.hasOwn(obj, key))
      return fail(errorResponse('invalid_request', `missing field ${key}`, { param: key }));
  }
  return { ok: true, value: obj };
}

/** A canonical unpadded base64url field of exactly `length` bytes, or of `minLength..maxLength`. */
export function base64UrlField(
  value: unknown,
  name: string,
  size: { length: number } | { minLength: number; maxLength: number },
): Checked<Uint8Array> {
  const what = 'length' in size ? `${size.length} bytes` : `${size.minLength}..${size.maxLength} bytes`;
  const message = `${name} must be ${what} of unpadded base64url`;
  try {
    const bytes = decodeBase64UrlField(value, {
      code: 'invalid_argument',
      message,
      ...('length' in size ? { length: size.length } : { minLength: size.minLength }),
    });
    if ('maxLength' in size && bytes.length > size.maxLength) throw new Error(message);
    return { ok: true, value: bytes };
  } catch {
    return fail(errorResponse('invalid_request', message, { param: name }));
  }
}
