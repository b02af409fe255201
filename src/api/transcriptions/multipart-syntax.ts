/**
 * A transcription's multipart body, parsed on its bytes (never held as one string: an upload is up
 * to 25 MiB) by the gateway and the worker alike, before anything is sealed or forwarded.
 *
 * The body reaches the model server byte for byte (form.ts), so the gateway, the worker and the
 * model server (python-multipart behind vLLM and the OpenAI-compatible servers) each read the same
 * bytes. Where multipart is ambiguous readers disagree, and the model the envelope and the receipt
 * name is not the one the server runs (with `boundary=A; boundary=B` workerd reads the first
 * boundary's form, a reader that keeps the last parameter another form in the same bytes). The
 * gateway and the worker both run this parser (not their runtime's `formData`, which differ), and
 * it takes RFC 7578 / RFC 2046 §5.1.1 as the SDKs, curl, requests and httpx send it,
 * refusing only what two readers could read two ways:
 *
 * - Content-Type: exactly one `boundary`, no parameter twice (multipart-params.ts);
 * - a preamble before the first delimiter is taken (RFC 2046 §5.1.1), unless it holds `--boundary`
 *   (a reader that looks for the dash-boundary anywhere would start there); python-multipart skips
 *   only leading CR and LF and refuses other text, so a text preamble fails there, never reads as
 *   another form; every line break
 *   around delimiters and in part headers is CRLF; a delimiter is followed by CRLF or `--` (else
 *   readers differ on whether it is one); the close delimiter is required, then at most one CRLF;
 * - each part: one Content-Disposition `form-data` with a `name` and at most a `filename`
 *   (multipart-params.ts: tokens or quoted-strings), at most one Content-Type, at most one
 *   Content-Transfer-Encoding and only `binary`, `8bit` or `7bit` (python-multipart decodes
 *   `base64`, which would give it other bytes, another model name); no Content-Length (a reader
 *   honouring it would cut the part elsewhere); other headers, in any case, are ignored as RFC 7578
 *   §4.8 says; no folded or malformed header line.
 *
 * Hand-written, not a library: a parser's job is to be lenient, and this one exists to be no more
 * lenient than the strictest reader after it.
 */
import { parameters, strictBoundary } from './multipart-params.js';

export interface MultipartPart {
  name: string;
  /** The `filename` parameter; undefined for a plain field. */
  filename: string | undefined;
  contentType: string | undefined;
  /** The part's content: `bytes.subarray(start, end)`. */
  start: number;
  end: number;
}

export type MultipartParse = { ok: true; parts: MultipartPart[] } | { ok: false; problem: string };

/** Parts worth reading: a file, a model and OpenAI's few options (arrays included). */
const MAX_PARTS = 64;
/** A part's header block; SDKs send ~100 bytes. */
const MAX_HEADER_BYTES = 8 * 1024;
const IDENTITY_TRANSFER = new Set(['binary', '8bit', '7bit']);
const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
/** Header blocks: ASCII but for a filename, which RFC 7578 §5.1.3 senders write as UTF-8. */
const utf8Lenient = new TextDecoder('utf-8');
const HEADERS_END = new Uint8Array([CR, LF, CR, LF]);

/** The first index of `needle` in `hay` at or after `from`, or -1 (a scan for its first byte, native). */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(needle[0]!, from); i !== -1 && i <= last; i = hay.indexOf(needle[0]!, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

const fail = (problem: string): MultipartParse => ({ ok: false, problem });

/** One part's header block (between its delimiter line and the empty line) → its fields, or a problem. */
function partHeaders(block: string): Omit<MultipartPart, 'start' | 'end'> | string {
  const seen = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const match = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/s.exec(line);
    if (!match || /[\r\n]/.test(line)) return 'a part header is malformed';
    const name = match[1]!.toLowerCase();
    if (name === 'content-length') return 'a part has a Content-Length (readers differ on it)';
    if (!['content-disposition', 'content-type', 'content-transfer-encoding'].includes(name)) continue;
    if (seen.has(name)) return `a part header (${name}) is repeated`;
    seen.set(name, match[2]!);
  }
  const transfer = seen.get('content-transfer-encoding');
  if (transfer !== undefined && !IDENTITY_TRANSFER.has(transfer.toLowerCase()))
    return `a part's transfer encoding (${transfer}) is not taken`;
  const disposition = /^form-data[ \t]*(;.*)?$/is.exec(seen.get('content-disposition') ?? '');
  const params = disposition ? parameters(disposition[1] ?? '') : null;
  const name = params?.get('name');
  if (params == null || name === undefined) return 'a part has no single form-data name';
  for (const key of params.keys()) {
    if (key !== 'name' && key !== 'filename')
      return `a part's disposition has a parameter (${key}) not taken`;
  }
  return { name, filename: params.get('filename'), contentType: seen.get('content-type') };
}

/** Where the first part's headers begin, after an optional preamble and the first delimiter; or a problem. */
function firstPartStart(bytes: Uint8Array, dashBoundary: Uint8Array): number | string {
  let at = 0;
  if (indexOfBytes(bytes.subarray(0, dashBoundary.length), dashBoundary, 0) !== 0) {
    const found = indexOfBytes(bytes, crlfBefore(dashBoundary), 0);
    if (found < 0) return 'the body has no boundary';
    if (indexOfBytes(bytes.subarray(0, found), dashBoundary, 0) !== -1)
      return 'the preamble holds the boundary';
    at = found + 2;
  }
  const after = at + dashBoundary.length;
  return bytes[after] === CR && bytes[after + 1] === LF
    ? after + 2
    : 'the first boundary is not followed by CRLF';
}

function crlfBefore(dashBoundary: Uint8Array): Uint8Array {
  const out = new Uint8Array(dashBoundary.length + 2);
  out.set([CR, LF]);
  out.set(dashBoundary, 2);
  return out;
}

/** The parts of `bytes` as a multipart/form-data body under `contentType`, or the first problem. */
export function parseMultipart(contentType: string, bytes: Uint8Array): MultipartParse {
  const boundary = strictBoundary(contentType);
  if (boundary === null) return fail('the content type is not multipart/form-data with one valid boundary');
  const dashBoundary = new TextEncoder().encode(`--${boundary}`);
  const delimiter = crlfBefore(dashBoundary);
  const first = firstPartStart(bytes, dashBoundary);
  if (typeof first === 'string') return fail(first);
  const parts: MultipartPart[] = [];
  for (let at = first; parts.length < MAX_PARTS; ) {
    const headersEnd = indexOfBytes(bytes.subarray(0, at + MAX_HEADER_BYTES + 4), HEADERS_END, at);
    if (headersEnd < 0) return fail('a part has no end to its headers');
    const headers = partHeaders(utf8Lenient.decode(bytes.subarray(at, headersEnd)));
    if (typeof headers === 'string') return fail(headers);
    const next = indexOfBytes(bytes, delimiter, headersEnd + 4);
    if (next < 0) return fail('a part has no closing boundary');
    parts.push({ ...headers, start: headersEnd + 4, end: next });
    at = next + delimiter.length;
    if (bytes[at] === CR && bytes[at + 1] === LF) {
      at += 2;
      continue;
    }
    if (bytes[at] !== DASH || bytes[at + 1] !== DASH)
      return fail('a boundary is followed by other than CRLF or --');
    const rest = bytes.length - (at + 2);
    const crlfOnly = rest === 0 || (rest === 2 && bytes[at + 2] === CR && bytes[at + 3] === LF);
    return crlfOnly ? { ok: true, parts } : fail('the body goes on after its close boundary');
  }
  return fail(`the form has more than ${MAX_PARTS} parts`);
}

/** The first problem with `bytes` as a multipart body under `contentType`, or null. */
export function multipartSyntaxProblem(contentType: string, bytes: Uint8Array): string | null {
  const parsed = parseMultipart(contentType, bytes);
  return parsed.ok ? null : parsed.problem;
}
