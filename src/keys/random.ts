/**
 * Where Sealgate's key material comes from. Every function that draws randomness takes an optional
 * `RandomSource`, so that test vectors can be produced deterministically; the default reads the
 * platform CSPRNG *at call time* (workerd refuses `crypto.getRandomValues` at module top level).
 */
import { SealgateError } from '../errors.js';

/** Returns `length` fresh random bytes. Must be a CSPRNG outside tests. */
export type RandomSource = (length: number) => Uint8Array;

/** The platform CSPRNG (WebCrypto), read on each call. */
export const systemRandom: RandomSource = (length) => crypto.getRandomValues(new Uint8Array(length));

/**
 * Draws `length` bytes from `random` and returns a private copy, so that zeroising our copy never
 * touches the caller's buffer and a misbehaving source (wrong length) is caught at the boundary.
 */
export function drawRandom(random: RandomSource, length: number, what: string): Uint8Array {
  const bytes: unknown = random(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new SealgateError('internal', `random source returned the wrong number of bytes for ${what}`, {
      expected: length,
    });
  }
  return bytes.slice();
}
