/**
 * Whether a `content-type` names JSON the way Sealgate reads it: the media type
 * `application/json` (case-insensitive, RFC 9110 §8.3.1) and, if a `charset` parameter is given,
 * UTF-8. RFC 8259 §8.1 requires UTF-8 for JSON exchanged between systems and §11 defines no charset
 * parameter; a client that declares another charset (`utf-16`, `latin1`) means bytes we would
 * misread, so it gets a clear 415 rather than a decoding that silently differs from its intent.
 * Other parameters are ignored. Two values joined by a comma (a duplicated header) are refused.
 */
export function isJsonContentType(header: string | null): boolean {
  if (header === null) return false;
  const [type, ...params] = header.split(';');
  if (type?.trim().toLowerCase() !== 'application/json') return false;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq === -1) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (value !== 'utf-8' && value !== 'utf8') return false;
  }
  return true;
}
