import { describe, expect, it } from 'vitest';
import { concatBytes, constantTimeEqual, fromBase64Url, fromHex, toBase64Url, toHex } from '../src/bytes.js';
import { isSealgateError } from '../src/errors.js';
import { vectors } from './support/vectors.js';

describe('bytes', () => {
  it('round-trips hex and rejects bad hex with exact errors', () => {
    expect(toHex(fromHex('00ff10'))).toBe('00ff10');
    for (const bad of ['0', 'zz', '0g']) {
      try {
        fromHex(bad);
        expect.unreachable();
      } catch (e) {
        expect(isSealgateError(e, 'invalid_argument')).toBe(true);
      }
    }
    expect(() => fromHex('00', 2)).toThrow('expected 2 bytes, got 1');
  });
  it('round-trips base64url', () => {
    const b = new Uint8Array([0xfb, 0xff, 0x00, 0x01]);
    expect(toBase64Url(b)).toBe('-_8AAQ');
    expect(fromBase64Url('-_8AAQ')).toEqual(b);
  });
  it('compares in constant time and concatenates', () => {
    expect(constantTimeEqual(fromHex('0102'), fromHex('0102'))).toBe(true);
    expect(constantTimeEqual(fromHex('0102'), fromHex('0103'))).toBe(false);
    expect(constantTimeEqual(fromHex('01'), fromHex('0102'))).toBe(false);
    expect(concatBytes(fromHex('01'), fromHex('0203'))).toEqual(fromHex('010203'));
  });
  it('sees the real vectors when they are present', () => {
    const v = vectors();
    if (!v.present) return console.warn(`skipped: ${v.skipReason}`);
    expect(v.bytes('snp/turin-v5-oak/report.bin').length).toBe(1184);
  });
});
