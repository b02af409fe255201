/**
 * RFC 8785 JSON Canonicalization Scheme (JCS). The canonical form of a JSON value is:
 *
 * - no whitespace between tokens (§3.2.1);
 * - literals `null`, `true`, `false` as such (§3.2.2.1);
 * - strings per §3.2.2.2: `"` and `\` escaped as `\"` `\\`; U+0008 U+0009 U+000A U+000C U+000D as
 *   `\b` `\t` `\n` `\f` `\r`; every other code point below U+0020 as `\u00xx` (lower-case hex);
 *   everything else — including `/`, U+007F and all non-ASCII — written as itself;
 * - numbers per §3.2.2.3: ECMAScript's Number::toString (ECMA-262 §6.1.6.1.20), which JavaScript's
 *   `String(n)` implements exactly; -0 serializes as `0`; NaN and ±Infinity are errors;
 * - object members sorted by name, comparing the names as arrays of UTF-16 code units (§3.2.3),
 *   recursively; array order kept;
 * - the result encoded as UTF-8 (§3.2.4).
 *
 * Input must be I-JSON (RFC 7493): strings with unpaired surrogates are errors (§3.2.2.2 relies on
 * well-formed Unicode; UTF-8 cannot encode them).
 */
import { utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { findLoneSurrogate, MAX_JSON_DEPTH, pointerAppend } from './strict-json.js';

/** UTF-16 code-unit order, as RFC 8785 §3.2.3 requires. (`<` on JS strings is this order.) */
export function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const SHORT_ESCAPES: Record<number, string> = {
  8: '\\b',
  9: '\\t',
  10: '\\n',
  12: '\\f',
  13: '\\r',
  34: '\\"',
  92: '\\\\',
};

function serializeString(s: string, path: string): string {
  if (findLoneSurrogate(s) >= 0) throw bad(path, 'string contains an unpaired surrogate');
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(runStart, i);
    out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
    runStart = i + 1;
  }
  return `${out + s.slice(runStart)}"`;
}

function serializeNumber(n: number, path: string): string {
  if (!Number.isFinite(n)) throw bad(path, `number ${String(n)} is not allowed (RFC 8785 §3.2.2.3)`);
  // Number::toString already gives "0" for -0; made explicit because the RFC calls it out.
  return Object.is(n, -0) ? '0' : String(n);
}

function serialize(value: unknown, path: string, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return serializeNumber(value, path);
    case 'string':
      return serializeString(value, path);
    case 'object':
      break;
    default:
      throw bad(path, `${typeof value} is not a JSON value`);
  }
  if (depth >= MAX_JSON_DEPTH) throw bad(path, `nesting deeper than ${MAX_JSON_DEPTH}`);
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) parts.push(serialize(value[i], pointerAppend(path, i), depth + 1));
    return `[${parts.join(',')}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw bad(path, 'only plain objects are JSON objects');
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareUtf16);
  const parts: string[] = [];
  for (const k of keys) {
    const childPath = pointerAppend(path, k);
    // JSON.stringify would silently drop an undefined member; a digest must not depend on that.
    if (obj[k] === undefined) throw bad(childPath, 'undefined is not a JSON value');
    parts.push(`${serializeString(k, childPath)}:${serialize(obj[k], childPath, depth + 1)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The RFC 8785 canonical form of a JSON value, as a string. */
export function canonicalizeJson(value: unknown): string {
  return serialize(value, '', 0);
}

/** The RFC 8785 canonical form as UTF-8 bytes (what gets hashed). */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return utf8.encode(canonicalizeJson(value));
}

function bad(path: string, message: string): SealgateError {
  return new SealgateError('invalid_argument', `jcs: ${path || '/'}: ${message}`, { path });
}
