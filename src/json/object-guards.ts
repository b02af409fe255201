/**
 * Type guards for parsed JSON values, shared by every domain that reads one.
 *
 * A JSON object (RFC 8259 §4) parses to a non-null object that is not an array; `typeof` alone says
 * `'object'` for `null` and arrays too. A number kept as its source text (json/exact-numbers.ts) is
 * a frozen null-prototype object to `typeof` but a number to JSON: where a body may hold one, read
 * with `isJsonObject`, never `isRecord`.
 */
import { isRawJsonNumber } from './exact-numbers.js';

/** A non-null object that is not an array (any prototype). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object: a record that is not a number kept as its source text (json/exact-numbers.ts). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && !isRawJsonNumber(value);
}
