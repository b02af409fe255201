/**
 * Header parameters of a multipart body: `; name=value` after the Content-Type's media type and
 * after a part's `form-data` disposition (RFC 7578 §4.2, RFC 2183 §2, RFC 7230 §3.2.6).
 *
 * A value is a token or a quoted-string. Where a quoted value ENDS must be the same to every
 * reader: python-multipart splits a disposition with the standard library's
 * `email.message._parseparam` (vendored in `parse_options_header`), which counts `"` minus `\"` to
 * find the `;` that ends a parameter, so `"a\\"; name="model"` ends at another quote for it than for
 * RFC 7230's quoted-pairs: a raw `\\"` is refused. What a value SAYS must be the same where it
 * picks a part (`name`, the boundary): there a backslash may only escape `"` or `\`, which RFC 7230
 * readers and python-multipart's `\\`→`\`, `\"`→`"` unquote alike (curl `--form-escape` and httpx
 * write these). A `filename` may also hold a lone backslash (Python's requests writes a Windows
 * path as `"C:\a.wav"`): readers may then differ on its text, never on which part it names; it is
 * unquoted as python-multipart does. The RFC 2231 `name*` forms are not taken (python-multipart
 * drops them, other readers decode them).
 *
 * Whitespace between parameters is RFC 7230's OWS, space and tab only — not JavaScript's `\s` or
 * `trim()`, which take Unicode spaces (U+00A0, U+2028, U+3000, U+FEFF…) that a Python reader does
 * not: it decodes a part's header bytes as Latin-1, so a UTF-8 no-break space after `name=model` is
 * `"modelÂ"` to Starlette (python-multipart 0.0.32) while `\s` reads `model`: the envelope would
 * name one model while the server read no `model` field and ran its default.
 */

/** RFC 2046 §5.1.1 `bchars`: a boundary of 1–70 of them, the last not a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
/** RFC 7230 §3.2.3 optional whitespace. */
const OWS = '[ \\t]*';
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[^"\\\\\\r\\n]|\\\\[^\\r\\n])*"';
/** One `; name=value` parameter, sticky at `lastIndex`. */
const NEXT_PARAM = new RegExp(`${OWS};${OWS}(${TOKEN})${OWS}=${OWS}(${QUOTED}|${TOKEN})${OWS}`, 'y');
/** What may follow the last parameter: OWS only. */
const ONLY_OWS = /^[ \t]*$/;

/** True when every backslash in a quoted value escapes `"` or `\` (RFC 7230 and python agree). */
function onlyQuoteEscapes(quoted: string): boolean {
  for (let i = quoted.indexOf('\\'); i !== -1; i = quoted.indexOf('\\', i + 2)) {
    if (quoted[i + 1] !== '"' && quoted[i + 1] !== '\\') return false;
  }
  return true;
}

/** A parameter's value: a token as is, a quoted-string unquoted as python-multipart does. */
function unquote(value: string): string {
  return value.startsWith('"') ? value.slice(1, -1).replaceAll('\\\\', '\\').replaceAll('\\"', '"') : value;
}

/**
 * `; a=b; c="d"` after a media type or disposition type → its parameters (names lower case), or
 * null when one does not parse, is given twice, or holds `\\"` (see the header).
 */
export function parameters(text: string): Map<string, string> | null {
  if (text.includes('\\\\"')) return null;
  const out = new Map<string, string>();
  let at = 0;
  while (!ONLY_OWS.test(text.slice(at))) {
    NEXT_PARAM.lastIndex = at;
    const match = NEXT_PARAM.exec(text);
    if (!match) return null;
    const name = match[1]!.toLowerCase();
    if (out.has(name)) return null;
    if (name !== 'filename' && !onlyQuoteEscapes(match[2]!)) return null;
    out.set(name, unquote(match[2]!));
    at = NEXT_PARAM.lastIndex;
  }
  return out;
}

/** The boundary of a `multipart/form-data` Content-Type with exactly one valid boundary, or null. */
export function strictBoundary(contentType: string): string | null {
  const match = /^[ \t]*multipart\/form-data[ \t]*(;.*)?$/is.exec(contentType);
  if (!match) return null;
  const params = parameters(match[1] ?? '');
  const boundary = params?.get('boundary');
  return boundary !== undefined && BOUNDARY.test(boundary) ? boundary : null;
}
