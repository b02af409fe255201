/**
 * Canonical JSON for the plain (unencrypted but authenticated) fields, RFC 8785 (JCS).
 *
 * Plain values are restricted to JSON from JSON.parse: null, booleans, finite numbers, well-formed
 * strings, arrays and objects. For those, JCS is exactly ECMAScript JSON.stringify applied with object
 * keys sorted by UTF-16 code units (RFC 8785 §3.2.2 serialises primitives as JSON.stringify does,
 * §3.2.3 sorts keys that way), which is what this does.
 */
import { SealgateError } from '../errors.js';

/** Lone surrogates are not I-JSON (RFC 7493 §2.1) and have no canonical form. */
const LONE_SURROGATE = /\p{Cs}/u;

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new SealgateError('invalid_argument', 'canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return canonicalString(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${canonicalString(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  throw new SealgateError('invalid_argument', 'canonicalJson: not a JSON value');
}

export function isWellFormedString(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

function canonicalString(s: string): string {
  if (!isWellFormedString(s)) throw new SealgateError('invalid_argument', 'canonicalJson: lone surrogate');
  return JSON.stringify(s);
}
