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
  const parser = new StrictJsonParser(text);
  const value = parser.value('', 0);
  parser.skipWs();
  if (parser.pos !== text.length) throw parser.err('', 'unexpected text after the JSON value');
  return value;
}

/** A recursive-descent reader over one text; `pos` is the offset of the next unread character. */
class StrictJsonParser {
  pos = 0;
  constructor(readonly text: string) {}

  err(path: string, what: string): SealgateError {
    return fail(path, `JSON: ${what} at offset ${this.pos}`);
  }

  /** RFC 8259 §2: insignificant whitespace is space, tab, LF and CR only. */
  skipWs(): void {
    const { text } = this;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  value(path: string, depth: number): JsonValue {
    this.skipWs();
    const { text } = this;
    if (this.pos >= text.length) throw this.err(path, 'unexpected end of text');
    const ch = text[this.pos];
    if (ch === '{' || ch === '[') {
      if (depth >= MAX_JSON_DEPTH) throw this.err(path, `nesting deeper than ${MAX_JSON_DEPTH}`);
      return ch === '{' ? this.object(path, depth + 1) : this.array(path, depth + 1);
    }
    if (ch === '"') return this.string(path);
    for (const [word, value] of LITERALS) {
      if (text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.number(path);
  }

  /** RFC 7493 §2.2: a number must be an IEEE 754 double. */
  number(path: string): number {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m === null) throw this.err(path, 'unexpected character');
    const n = Number(m[0]);
    if (!Number.isFinite(n)) throw this.err(path, 'number out of IEEE 754 double range (RFC 7493 §2.2)');
    this.pos += m[0].length;
    return n;
  }

  /** RFC 8259 §7, with RFC 7493 §2.1: no unpaired surrogate, escaped or not. */
  string(path: string): string {
    const { text } = this;
    this.pos++; // opening quote
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= text.length) throw this.err(path, 'unterminated string');
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) {
        out += text.slice(runStart, this.pos);
        this.pos++;
        break;
      }
      if (c < 0x20) throw this.err(path, 'control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += text.slice(runStart, this.pos) + this.escape(path);
      runStart = this.pos;
    }
    const lone = findLoneSurrogate(out);
    if (lone >= 0) throw fail(path, 'JSON: string contains an unpaired surrogate (RFC 7493 §2.1)');
    return out;
  }

  /** One escape sequence at `pos` (the backslash), decoded; `pos` moves past it. */
  escape(path: string): string {
    const e = this.text[this.pos + 1];
    if (e === 'u') {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.err(path, 'bad \\u escape');
      this.pos += 6;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    if (e !== undefined && e in ESCAPES) {
      this.pos += 2;
      return ESCAPES[e]!;
    }
    throw this.err(path, 'bad escape');
  }

  /** RFC 7493 §2.3: member names are unique. */
  object(path: string, depth: number): JsonValue {
    this.pos++;
    const obj: Record<string, JsonValue> = {};
    const seen = new Set<string>();
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') throw this.err(path, 'expected a member name');
      const key = this.string(path);
      const childPath = pointerAppend(path, key);
      if (seen.has(key)) throw fail(childPath, 'JSON: duplicate member name (RFC 7493 §2.3)');
      seen.add(key);
      this.skipWs();
      if (this.text[this.pos] !== ':') throw this.err(childPath, 'expected ":"');
      this.pos++;
      // defineProperty, not assignment: a member named "__proto__" must stay a plain member.
      Object.defineProperty(obj, key, {
        value: this.value(childPath, depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      if (this.closes('}', path)) return obj;
    }
  }

  array(path: string, depth: number): JsonValue {
    this.pos++;
    const arr: JsonValue[] = [];
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(pointerAppend(path, arr.length), depth));
      if (this.closes(']', path)) return arr;
    }
  }

  /** After a member or element: true at the closing bracket, false after a comma, else an error. */
  closes(close: '}' | ']', path: string): boolean {
    this.skipWs();
    const c = this.text[this.pos];
    if (c === ',' || c === close) {
      this.pos++;
      return c === close;
    }
    throw this.err(path, `expected "," or "${close}"`);
  }
}

const LITERALS = [
  ['true', true],
  ['false', false],
  ['null', null],
] as const;

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
