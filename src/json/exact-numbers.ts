/**
 * JSON text parsed so that `JSON.stringify` writes every number back as the client wrote it.
 *
 * `JSON.parse` holds a number as the nearest IEEE 754 double. Within ±(2^53 − 1), I-JSON's exact
 * integer range (RFC 7493 §2.2), `JSON.stringify` writes an integer back digit for digit; beyond it
 * the double is a rounding of what was written (`"seed": 12345678901234567890` would be sent on as
 * `12345678901234567000`, and a model server in Python reads integers exactly). Such a number is
 * kept here as its source text instead: ECMAScript's JSON.parse source text access (TC39
 * proposal-json-parse-with-source, in V8 since 11.4: Node ≥ 21 and workerd) hands a reviver the
 * literal as `context.source`, and `JSON.rawJSON(source)` makes a value `JSON.stringify` writes
 * verbatim. An int64 bound in a tool's JSON schema (`"maximum": 9223372036854775807`) then reaches
 * the model server byte for byte.
 *
 * Invariants:
 * - only finite numbers beyond ±(2^53 − 1) become raw values; every other value is `JSON.parse`'s;
 *   a number outside double range (±Infinity) is the caller's to refuse (it has no exact form);
 * - a raw value is a frozen null-prototype object (`JSON.isRawJSON`), not a number: a reader that
 *   needs a number (`typeof x === 'number'`) sees none and refuses, it never reads a rounding;
 * - fail closed: a runtime without source text access, or a literal whose source the runtime does
 *   not hand over, is `invalid_argument` — never a silently rounded number.
 *
 * A reviver costs a call per value (measured in this commit's message): callers parse without it
 * first and call `parseKeepingExactNumbers` only when `hasInexactNumber` found one.
 */
import { SealgateError } from '../errors.js';

/** The context V8 passes a reviver's third argument (proposal-json-parse-with-source). */
interface ReviverContext {
  source?: string;
}

/** The parts of `JSON` this module uses that TypeScript's ES2023 lib does not declare yet. */
interface JsonWithSource {
  rawJSON?: (text: string) => unknown;
  isRawJSON?: (value: unknown) => boolean;
  parse(text: string, reviver: (key: string, value: unknown, context?: ReviverContext) => unknown): unknown;
}

const J = JSON as unknown as JsonWithSource;

/** True for a finite number `JSON.stringify` would not write back exactly as its source. */
export function isInexactNumber(n: number): boolean {
  return Math.abs(n) > Number.MAX_SAFE_INTEGER && Number.isFinite(n);
}

/** Whether this runtime can keep a number's source text (JSON.rawJSON and reviver context). */
export function canKeepExactNumbers(): boolean {
  return typeof J.rawJSON === 'function' && typeof J.isRawJSON === 'function';
}

/** True for a value `parseKeepingExactNumbers` made from a number's source text. */
export function isRawJsonNumber(value: unknown): boolean {
  return typeof J.isRawJSON === 'function' && J.isRawJSON(value);
}

function refuse(message: string): never {
  throw new SealgateError('invalid_argument', message);
}

/** The reviver: an inexact number becomes its source text; everything else is as parsed. */
function keepSource(_key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value !== 'number' || !isInexactNumber(value)) return value;
  const source = context?.source;
  if (typeof source !== 'string') refuse('a number beyond ±(2^53 − 1) has no source text to carry');
  return (J.rawJSON as (text: string) => unknown)(source);
}

/**
 * `text` (JSON the caller already parsed once without error) parsed again with every finite number
 * beyond ±(2^53 − 1) kept as its source text. The caller bounds the nesting first: a reviver walks
 * the value recursively (a stack overflow is `invalid_argument` too, never a RangeError).
 */
export function parseKeepingExactNumbers(text: string): unknown {
  if (!canKeepExactNumbers()) refuse('this runtime cannot carry a number beyond ±(2^53 − 1) exactly');
  try {
    return J.parse(text, keepSource);
  } catch (e) {
    if (e instanceof SealgateError) throw e;
    // The reviver's walk is recursive: a caller that did not bound the nesting meets RangeError.
    return refuse(`the text could not be parsed keeping its numbers exact (${(e as Error).name})`);
  }
}

/**
 * The cheap-path rule every parse of JSON to be written on applies (requests and answers alike):
 * `value` is `JSON.parse(text)`; when it holds a number beyond ±(2^53 − 1), `text` is parsed again
 * keeping such numbers as written, else `value` is returned as it is (no second walk, no reviver).
 */
export function keepExactNumbers(value: unknown, text: string): unknown {
  return hasInexactNumber(value) ? parseKeepingExactNumbers(text) : value;
}

/** Whether any number in `value` is finite and beyond ±(2^53 − 1); no recursion. */
export function hasInexactNumber(value: unknown): boolean {
  if (typeof value === 'number') return isInexactNumber(value);
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push(child);
      else if (typeof child === 'number' && isInexactNumber(child)) return true;
    }
  }
  return false;
}
