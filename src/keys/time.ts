/**
 * Time in Sealgate's key and envelope code is Unix time in whole seconds (as JWT `iat`/`exp`), passed
 * in by the caller: domain code never reads a clock. A value in milliseconds (Date.now()) is refused
 * rather than silently accepted as a date 1000× in the future.
 */
import { SealgateError } from '../errors.js';

/** 10^11 s is the year 5138; Date.now() today is ~1.7·10^12, so a millisecond value cannot pass. */
const MAX_UNIX_SECONDS = 1e11;

export function checkUnixSeconds(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SealgateError('invalid_argument', `${name}: expected Unix time in whole seconds`);
  }
  if (value >= MAX_UNIX_SECONDS) {
    throw new SealgateError('invalid_argument', `${name}: expected Unix time in seconds, got milliseconds?`);
  }
  return value;
}
