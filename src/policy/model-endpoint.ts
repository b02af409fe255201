/**
 * Model endpoints as the manifest and the worker's configuration spell them: one normalized text
 * per endpoint, so that "allowed" is string equality and the text the worker connects to is the
 * text its evidence binds.
 *
 * Normalization is the WHATWG URL parser's (which performs RFC 3986 §6.2.2 syntax-based
 * normalization: scheme and host lower-cased, dot segments removed, and §6.2.3: default port
 * dropped; and parses IPv4 in any of its spellings — `2130706433`, `0x7f.1`, `0177.0.0.1`,
 * `127.0.0.1.` — into dotted decimal), then the origin plus the path without trailing slashes and
 * without a final `/v1` (requests go to `{endpoint}/v1/...`). The worker connects to exactly this
 * text (src/model/upstream.ts), so no second parser can read it differently.
 *
 * Refused: anything but http(s); userinfo (RFC 3986 §3.2.1: it names credentials, and `a@b` is the
 * classic spelling that makes a reader see the wrong host), query and fragment.
 *
 * Loopback (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3): an IPv4 host in 127.0.0.0/8 or the IPv6 host
 * `::1`. Not loopback, on purpose: `localhost` (a name, resolved at connect time through
 * /etc/hosts and the resolver, which nothing binds — RFC 6761 §6.3 only asks resolvers to answer
 * loopback), IPv4-mapped IPv6 (`::ffff:127.0.0.1`), `0.0.0.0` and `::`.
 */
import { SealgateError } from '../errors.js';

/** The worker's built-in model: no network at all. */
export const BUILTIN_ENDPOINT = 'builtin';

/** The normalized endpoint of an http(s) URL; throws `invalid_argument` naming `setting`. */
export function normalizeModelEndpoint(text: string, setting = 'MODEL_URL'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SealgateError('invalid_argument', `${setting} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SealgateError('invalid_argument', `${setting} must be an absolute http(s) URL`);
  }
  // `http://@host/` parses with an empty username; refused too: one spelling per endpoint.
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(text.trim())) {
    throw new SealgateError('invalid_argument', `${setting} must not carry credentials (userinfo)`);
  }
  if (url.search || url.hash || /[?#]/.test(text)) {
    throw new SealgateError('invalid_argument', `${setting} must not carry a query or fragment`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

/** Whether a normalized endpoint's host is a loopback address (not a name). */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint === BUILTIN_ENDPOINT) return false;
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  if (host === '[::1]') return true;
  // The WHATWG parser serializes every IPv4 host as four decimal octets, and a host that ends in
  // a number is either IPv4 or a parse failure, so this pattern is the whole of 127.0.0.0/8.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
