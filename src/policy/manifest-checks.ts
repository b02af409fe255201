/**
 * Small collecting validators for the manifest parser: each records every problem it finds (with
 * its RFC 6901 path) into `Issues` and returns the checked value, or `undefined` when the value is
 * unusable. Nothing here throws, so one pass reports all errors of a document.
 */

import { isRecord } from '../json/object-guards.js';
import { isWellFormedString, pointerAppend } from '../json/strict-json.js';
import type { FieldSpec } from './manifest-fields.js';
import type { ManifestIssue } from './manifest-types.js';

export class Issues {
  readonly list: ManifestIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

export const at = pointerAppend;

/** Own members only: `"constructor" in {}` is true, `has({}, "constructor")` is not. */
export const has = (o: object, key: string): boolean => Object.hasOwn(o, key);

/** An object literal's or a null-prototype object's shape; an array or a class instance is not one. */
export function isPlainOrNullProtoObject(v: unknown): v is Record<string, unknown> {
  if (!isRecord(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** An object with exactly the members `spec` allows: unknown members and missing required ones reported. */
export function checkObject(
  iss: Issues,
  v: unknown,
  path: string,
  spec: FieldSpec,
): Record<string, unknown> | undefined {
  if (!isPlainOrNullProtoObject(v)) {
    iss.add(path, 'expected an object');
    return undefined;
  }
  for (const key of Object.keys(v)) {
    if (!spec.required.includes(key) && !spec.optional.includes(key)) iss.add(at(path, key), 'unknown field');
  }
  for (const key of spec.required) {
    if (!Object.hasOwn(v, key)) iss.add(at(path, key), 'required field missing');
  }
  return v;
}

export function checkInt(
  iss: Issues,
  v: unknown,
  path: string,
  min: number,
  max: number,
): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    iss.add(path, `expected an integer in [${min}, ${max}]`);
    return undefined;
  }
  return v;
}

export function checkBool(iss: Issues, v: unknown, path: string): boolean | undefined {
  if (typeof v !== 'boolean') {
    iss.add(path, 'expected true or false');
    return undefined;
  }
  return v;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: C0 controls and DEL are what it rejects.
const CONTROL = /[\u0000-\u001f\u007f]/;

export function checkText(iss: Issues, v: unknown, path: string, maxLength: number): string | undefined {
  // Length in code points, as JSON Schema's maxLength counts.
  const length = typeof v === 'string' ? [...v].length : 0;
  // Unpaired surrogates too (RFC 7493 §2.1): a parsed value handed in directly skips the strict
  // JSON parser, and a manifest that cannot be canonicalised (RFC 8785) has no digest.
  if (
    typeof v !== 'string' ||
    length === 0 ||
    length > maxLength ||
    CONTROL.test(v) ||
    !isWellFormedString(v)
  ) {
    iss.add(path, `expected a string of 1 to ${maxLength} characters without control characters`);
    return undefined;
  }
  return v;
}

export function checkEnum<T extends string>(
  iss: Issues,
  v: unknown,
  path: string,
  allowed: readonly T[],
): T | undefined {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    iss.add(path, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return undefined;
  }
  return v as T;
}

/** Lower-case hex of exactly `bytes` bytes: one spelling per value, so string equality is byte equality. */
export function checkHex(
  iss: Issues,
  v: unknown,
  path: string,
  bytes: number,
  opts: { nonZero?: boolean } = {},
): string | undefined {
  if (typeof v !== 'string') {
    iss.add(path, `expected ${bytes * 2} lower-case hex characters (${bytes} bytes)`);
    return undefined;
  }
  if (!/^[0-9a-f]*$/.test(v)) {
    iss.add(path, `expected lower-case hex (0-9, a-f) only`);
    return undefined;
  }
  if (v.length !== bytes * 2) {
    iss.add(path, `expected ${bytes * 2} hex characters (${bytes} bytes), got ${v.length}`);
    return undefined;
  }
  if (opts.nonZero && /^0*$/.test(v)) {
    iss.add(path, 'all zero: the report uses zero for "absent", so it cannot be an allowed value');
    return undefined;
  }
  return v;
}

/**
 * A non-empty array whose items pass `item`; duplicates (by `key`, default the item itself) are
 * reported at the later index. Returns the valid items (or undefined when not an array).
 */
export function checkList<T>(
  iss: Issues,
  v: unknown,
  path: string,
  item: (x: unknown, p: string) => T | undefined,
  key: (x: T) => string = (x) => String(x),
): T[] | undefined {
  if (!Array.isArray(v)) {
    iss.add(path, 'expected an array');
    return undefined;
  }
  if (v.length === 0) iss.add(path, 'expected at least one item');
  const out: T[] = [];
  const seen = new Map<string, number>();
  v.forEach((x, i) => {
    const p = at(path, i);
    const ok = item(x, p);
    if (ok === undefined) return;
    const k = key(ok);
    const first = seen.get(k);
    if (first !== undefined) {
      iss.add(p, `duplicate of ${at(path, first)}`);
      return;
    }
    seen.set(k, i);
    out.push(ok);
  });
  return out;
}

/** Deep-freezes a parsed manifest: a policy that was digested must not change afterwards. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}
