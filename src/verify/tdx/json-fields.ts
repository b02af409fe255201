/**
 * Typed reads from strict JSON (src/json/strict-json.ts) for Intel's collateral: each failure is
 * `SealgateError('malformed_evidence')` naming the JSON path, so that a TCB info or QE identity
 * of the wrong shape is refused as a whole, never half-read.
 */
import { fromHex } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import { isRecord } from '../../json/object-guards.js';
import type { JsonValue } from '../../json/strict-json.js';

export type JsonObject = { [key: string]: JsonValue };

export function malformed(what: string, message: string): SealgateError {
  return new SealgateError('malformed_evidence', `${what}: ${message}`, { field: what });
}

export class Fields {
  constructor(
    readonly what: string,
    readonly path: string,
    readonly o: JsonObject,
  ) {}

  static of(what: string, v: JsonValue, path = ''): Fields {
    if (!isRecord(v)) throw malformed(what, `${path || '/'} is not an object`);
    return new Fields(what, path, v);
  }

  private get(key: string): JsonValue {
    const v = this.o[key];
    if (v === undefined) throw malformed(this.what, `${this.path}/${key} missing`);
    return v;
  }
  has(key: string): boolean {
    return this.o[key] !== undefined;
  }
  str(key: string): string {
    const v = this.get(key);
    if (typeof v !== 'string') throw malformed(this.what, `${this.path}/${key} is not a string`);
    return v;
  }
  int(key: string, max: number): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      throw malformed(this.what, `${this.path}/${key} is not an integer in [0, ${max}]`);
    }
    return v;
  }
  /** Hex of exactly `size` bytes (Intel writes upper case; either case is read). */
  hex(key: string, size: number): Uint8Array {
    const s = this.str(key);
    if (!/^[0-9a-fA-F]*$/.test(s) || s.length !== size * 2) {
      throw malformed(this.what, `${this.path}/${key} is not ${size} bytes of hex`);
    }
    return fromHex(s.toLowerCase());
  }
  /** An RFC 3339 UTC date-time as PCS writes it: YYYY-MM-DDTHH:MM:SSZ (fraction allowed, ignored beyond ms). */
  date(key: string): Date {
    const s = this.str(key);
    const d = new Date(s);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(s) || Number.isNaN(d.getTime())) {
      throw malformed(this.what, `${this.path}/${key} is not a UTC date-time`);
    }
    if (d.toISOString().slice(0, 19) !== s.slice(0, 19))
      throw malformed(this.what, `${this.path}/${key} is not a valid date`);
    return d;
  }
  obj(key: string): Fields {
    return Fields.of(this.what, this.get(key), `${this.path}/${key}`);
  }
  arr(key: string): Fields[] {
    const v = this.get(key);
    if (!Array.isArray(v)) throw malformed(this.what, `${this.path}/${key} is not an array`);
    return v.map((x, i) => Fields.of(this.what, x, `${this.path}/${key}/${i}`));
  }
  strings(key: string): string[] {
    const v = this.get(key);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      throw malformed(this.what, `${this.path}/${key} is not an array of strings`);
    }
    return v as string[];
  }
}
