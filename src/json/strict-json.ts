/**
 * A strict JSON text parser for documents that are bound by digest or signature (the manifest,
 * request bodies, service answers, collateral).
 *
 * `JSON.parse` accepts duplicate member names (the last one wins, RFC 8259 §4 leaves it open) and
 * strings with unpaired surrogates. Both are parser differentials: two readers of the same bytes
 * can disagree about what the document says while agreeing on its digest. RFC 8785 §3.1 requires
 * its input to be I-JSON (RFC 7493), which forbids both (§2.3 names unique, §2.1 no lone
 * surrogates) and numbers beyond IEEE 754 double range (§2.2). This parser enforces exactly that,
 * with the RFC 8259 grammar, and reports the JSON-pointer path of the offending value.
 */
import { SealgateError } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Bounds what a hostile peer can make us allocate. */
export const MAX_JSON_TEXT_LENGTH = 1024 * 1024;
/** Bounds the recursion (a manifest nests 6 levels). */
export const MAX_JSON_DEPTH = 32;

/** RFC 6901 §3: "~" → "~0", "/" → "~1". */
export function pointerAppend(path: string, token: string | number): string {
  const t = String(token);
  // Most tokens need no escaping: skip the two regular-expression passes for them (this runs for
  // every member and element parsed; it showed in a CPU profile of the AI worker's stream).
  if (!t.includes('~') && !t.includes('/')) return `${path}/${t}`;
  return `${path}/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** The first unpaired UTF-16 surrogate's index, or -1. */
export function findLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/**
 * ES2024 `String.prototype.isWellFormed` (native in Node ≥ 20 and workerd): the same test as
 * `findLoneSurrogate(s) < 0` without a JavaScript loop over every code unit (the sealed stream
 * checks every event of every frame with it).
 */
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** True when `s` has no unpaired surrogate (I-JSON, RFC 7493 §2.1). */
export function isWellFormedString(s: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(s) : findLoneSurrogate(s) < 0;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * Parses RFC 8259 JSON text under the I-JSON restrictions above. Throws
 * `SealgateError('invalid_json', …, { errors: [{ path, message }] })`; a caller that reads a
 * particular document (the manifest) maps it to that document's own error.
 */
export function parseStrictJson(text: string): JsonValue {
  if (typeof text !== 'string') throw fail('', 'JSON: expected a string');
  if (text.length > MAX_JSON_TEXT_LENGTH) {
    throw fail('', `JSON: text longer than ${MAX_JSON_TEXT_LENGTH} characters`);
  }
  let pos = 0;

  const skipWs = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else break;
    }
  };
  const err = (path: string, what: string): SealgateError => fail(path, `JSON: ${what} at offset ${pos}`);

  const parseString = (path: string): string => {
    pos++; // opening quote
    let out = '';
    let runStart = pos;
    for (;;) {
      if (pos >= text.length) throw err(path, 'unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(runStart, pos);
        pos++;
        break;
      }
      if (c < 0x20) throw err(path, 'control character in string');
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(runStart, pos);
      const e = text[pos + 1];
      if (e === 'u') {
        const hex = text.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw err(path, 'bad \\u escape');
        out += String.fromCharCode(Number.parseInt(hex, 16));
        pos += 6;
      } else if (e !== undefined && e in ESCAPES) {
        out += ESCAPES[e];
        pos += 2;
      } else {
        throw err(path, 'bad escape');
      }
      runStart = pos;
    }
    const lone = findLoneSurrogate(out);
    if (lone >= 0) throw fail(path, 'JSON: string contains an unpaired surrogate (RFC 7493 §2.1)');
    return out;
  };

  const parseValue = (path: string, depth: number): JsonValue => {
    skipWs();
    if (pos >= text.length) throw err(path, 'unexpected end of text');
    const ch = text[pos];
    if (ch === '{' || ch === '[') {
      if (depth >= MAX_JSON_DEPTH) throw err(path, `nesting deeper than ${MAX_JSON_DEPTH}`);
      return ch === '{' ? parseObject(path, depth + 1) : parseArray(path, depth + 1);
    }
    if (ch === '"') return parseString(path);
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m === null) throw err(path, 'unexpected character');
    const n = Number(m[0]);
    if (!Number.isFinite(n)) throw err(path, 'number out of IEEE 754 double range (RFC 7493 §2.2)');
    pos += m[0].length;
    return n;
  };

  const parseObject = (path: string, depth: number): JsonValue => {
    pos++;
    const obj: Record<string, JsonValue> = {};
    const seen = new Set<string>();
    skipWs();
    if (text[pos] === '}') {
      pos++;
      return obj;
    }
    for (;;) {
      skipWs();
      if (text[pos] !== '"') throw err(path, 'expected a member name');
      const key = parseString(path);
      const childPath = pointerAppend(path, key);
      if (seen.has(key)) throw fail(childPath, 'JSON: duplicate member name (RFC 7493 §2.3)');
      seen.add(key);
      skipWs();
      if (text[pos] !== ':') throw err(childPath, 'expected ":"');
      pos++;
      // defineProperty, not assignment: a member named "__proto__" must stay a plain member.
      Object.defineProperty(obj, key, {
        value: parseValue(childPath, depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      skipWs();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      throw err(path, 'expected "," or "}"');
    }
  };

  const parseArray = (path: string, depth: number): JsonValue => {
    pos++;
    const arr: JsonValue[] = [];
    skipWs();
    if (text[pos] === ']') {
      pos++;
      return arr;
    }
    for (;;) {
      arr.push(parseValue(pointerAppend(path, arr.length), depth));
      skipWs();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      throw err(path, 'expected "," or "]"');
    }
  };

  const value = parseValue('', 0);
  skipWs();
  if (pos !== text.length) throw err('', 'unexpected text after the JSON value');
  return value;
}

function fail(path: string, message: string): SealgateError {
  return invalidJson([{ path, message }]);
}

/** One JSON problem at an RFC 6901 pointer ("" for the whole text). */
export interface JsonProblem {
  path: string;
  message: string;
}

/** Every problem in `detail.errors` and in the message as `invalid JSON: <path>: <message>; …`. */
export function invalidJson(errors: JsonProblem[]): SealgateError {
  return new SealgateError('invalid_json', `invalid JSON: ${describeProblems(errors)}`, { errors });
}

/** `<path>: <message>; …` with "/" for the whole document. */
export function describeProblems(errors: readonly JsonProblem[]): string {
  return errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; ');
}

/** The problems of a `SealgateError` from this module, or null for any other error. */
export function jsonProblems(e: unknown): JsonProblem[] | null {
  if (!(e instanceof SealgateError) || e.code !== 'invalid_json') return null;
  return (e.detail?.errors as JsonProblem[] | undefined) ?? [];
}
