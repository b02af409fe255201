/**
 * The syntax of a transcription's multipart body, checked on its bytes before any parser reads it.
 *
 * The body reaches the model server byte for byte (form.ts), so the gateway, the worker (each
 * through its runtime's `Response.formData`) and the model server (Python's python-multipart
 * behind vLLM and the OpenAI-compatible servers) each parse the same bytes. Where multipart is
 * ambiguous they disagree, and the model the envelope and the receipt name is not the one the
 * server runs (found by round 7: with `boundary=A; boundary=B` workerd reads the first boundary's
 * form and a reader that keeps the last parameter another form in the same bytes). So only the
 * unambiguous core of RFC 7578 / RFC 2046 §5.1.1 is taken, the shape every SDK and curl send:
 *
 * - Content-Type `multipart/form-data` with exactly one `boundary` (1–70 bchars, not ending in a
 *   space) and no parameter twice;
 * - the body starts with the first delimiter (no preamble), every line break is CRLF, and it ends
 *   with the close delimiter and at most one CRLF (no epilogue);
 * - each part has exactly one Content-Disposition, `form-data` with a `name` and at most a
 *   `filename`, each once, quoted, without a backslash (readers differ on `\"`) and without the
 *   RFC 5987 `name*` form; at most one Content-Type; no other header but a Content-Transfer-Encoding
 *   of `binary`, `8bit` or `7bit` (RFC 7578 §4.7 deprecates it; python-multipart decodes `base64`
 *   and `quoted-printable`, which workerd and Node read as they are).
 *
 * Hand-written, not a library: a parser's job is to be lenient, and this check exists to be
 * stricter than every parser after it.
 */

/** RFC 2046 §5.1.1 `bchars`: a boundary of 1–70 of them, the last not a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
/** One `; name=value` parameter: the value a token, or a quoted string without backslash or quote inside. */
const NEXT_PARAM = new RegExp(`\\s*;\\s*(${TOKEN})\\s*=\\s*("[^"\\\\\\r\\n]*"|${TOKEN})\\s*`, 'y');
const IDENTITY_TRANSFER = new Set(['binary', '8bit', '7bit']);
const CRLF = '\r\n';
/** Parts worth reading: a file, a model and OpenAI's few options (arrays included). */
const MAX_PARTS = 64;

/**
 * `; a=b; c="d"` after a media type or disposition type → its parameters (names lower case), or
 * null when one does not parse or is given twice.
 */
function parameters(text: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let at = 0;
  while (text.slice(at).trim() !== '') {
    NEXT_PARAM.lastIndex = at;
    const match = NEXT_PARAM.exec(text);
    if (!match) return null;
    const name = match[1]!.toLowerCase();
    if (out.has(name)) return null;
    const value = match[2]!;
    out.set(name, value.startsWith('"') ? value.slice(1, -1) : value);
    at = NEXT_PARAM.lastIndex;
  }
  return out;
}

/** The boundary of a strict `multipart/form-data` Content-Type, or null. */
export function strictBoundary(contentType: string): string | null {
  const match = /^\s*multipart\/form-data\s*(;.*)?$/is.exec(contentType);
  if (!match) return null;
  const params = parameters(match[1] ?? '');
  const boundary = params?.get('boundary');
  return boundary !== undefined && BOUNDARY.test(boundary) ? boundary : null;
}

/** What is wrong with one part's header block (between its delimiter line and the empty line), or null. */
function partHeadersProblem(block: string): string | null {
  let disposition: string | undefined;
  let type = false;
  for (const line of block.split(CRLF)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.includes('\n') || line.includes('\r')) return 'a part header is malformed';
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition' && disposition === undefined) disposition = value;
    else if (name === 'content-type' && !type) type = true;
    else if (name === 'content-transfer-encoding' && IDENTITY_TRANSFER.has(value.toLowerCase())) continue;
    else return `a part header (${name}) is repeated or not taken`;
  }
  const match = disposition === undefined ? null : /^form-data\s*(;.*)?$/is.exec(disposition);
  const params = match ? parameters(match[1] ?? '') : null;
  if (!params?.has('name')) return 'a part has no single form-data name';
  for (const key of params.keys()) {
    if (key !== 'name' && key !== 'filename')
      return `a part's disposition has a parameter (${key}) not taken`;
  }
  // Quoted (a token is legal, but readers of form-data names differ on it); PARAM holds no backslash.
  return /;\s*name\s*=\s*"/i.test(disposition!) ? null : 'a part name is not quoted';
}

/**
 * The first problem with `bytes` as a strict multipart body under `contentType`, or null.
 * `bytes` are read as Latin-1 (one character per byte): delimiters and headers are ASCII.
 */
export function multipartSyntaxProblem(contentType: string, bytes: Uint8Array): string | null {
  const boundary = strictBoundary(contentType);
  if (boundary === null) return 'the content type is not multipart/form-data with one valid boundary';
  const text = new TextDecoder('latin1').decode(bytes);
  const delimiter = `--${boundary}`;
  if (!text.startsWith(`${delimiter}${CRLF}`)) return 'the body does not start with its boundary';
  let at = delimiter.length + CRLF.length;
  for (let parts = 1; parts <= MAX_PARTS; parts++) {
    const headersEnd = text.indexOf(`${CRLF}${CRLF}`, at);
    if (headersEnd < 0) return 'a part has no end to its headers';
    const problem = partHeadersProblem(text.slice(at, headersEnd));
    if (problem) return problem;
    const next = text.indexOf(`${CRLF}${delimiter}`, headersEnd + 2 * CRLF.length);
    if (next < 0) return 'a part has no closing boundary';
    at = next + CRLF.length + delimiter.length;
    const rest = text.slice(at, at + 2);
    if (rest === CRLF) {
      at += CRLF.length;
      continue;
    }
    if (rest !== '--') return 'a boundary is followed by other than CRLF or --';
    const epilogue = text.slice(at + 2);
    return epilogue === '' || epilogue === CRLF ? null : 'the body goes on after its close boundary';
  }
  return `the form has more than ${MAX_PARTS} parts`;
}
