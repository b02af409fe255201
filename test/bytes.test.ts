import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  constantTimeEqual,
  fromBase64,
  fromBase64Url,
  fromHex,
  isCanonicalBase64UrlTail,
  toBase64,
  toBase64Url,
  toHex,
} from '../src/bytes.js';
import { isSealgateError } from '../src/errors.js';
import { decodeBase64UrlField } from '../src/keys/encoding.js';
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
  it('fromHex: the table decoder accepts and refuses exactly what the RegExp decoder did', () => {
    // The decoder before the table (8eb3b15): the same checks in the same order.
    const reference = (hex: string, expected?: number): string => {
      if (hex.length % 2 !== 0) return `error:hex: odd length ${hex.length}`;
      if (!/^[0-9a-fA-F]*$/.test(hex)) return 'error:hex: non-hex character';
      const out = new Uint8Array(hex.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
      if (expected !== undefined && out.length !== expected) {
        return `error:hex: expected ${expected} bytes, got ${out.length}`;
      }
      return `ok:${toHex(out)}`;
    };
    const table = (hex: string, expected?: number): string => {
      try {
        return `ok:${toHex(fromHex(hex, expected))}`;
      } catch (e) {
        expect(isSealgateError(e, 'invalid_argument')).toBe(true);
        return `error:${(e as Error).message}`;
      }
    };
    // Every code unit that parseInt or a sloppy table could take for a digit, in both places.
    const edge = [
      '',
      '0x',
      '0X00',
      ' 0',
      '0 ',
      '\n0',
      '+0',
      '-0',
      'AbCdEf',
      'aBcDeF09',
      '0\u0660',
      '\uff10\uff10',
    ];
    for (const hex of edge)
      for (const n of [undefined, 0, 1]) expect(table(hex, n), hex).toBe(reference(hex, n));
    for (let c = 0; c < 0x10000; c += c < 0x100 ? 1 : 97) {
      const ch = String.fromCharCode(c);
      for (const hex of [`${ch}0`, `0${ch}`, `00${ch}0`]) expect(table(hex), `U+${c}`).toBe(reference(hex));
    }
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxg \n') }), (hex) => {
        expect(table(hex)).toBe(reference(hex));
      }),
    );
  });
  it('round-trips base64url', () => {
    const b = new Uint8Array([0xfb, 0xff, 0x00, 0x01]);
    expect(toBase64Url(b)).toBe('-_8AAQ');
    expect(fromBase64Url('-_8AAQ')).toEqual(b);
  });
  // Runs in Node 20 (atob path) and workerd (native Uint8Array.fromBase64): one behaviour on both.
  it('decodes base64 and base64url alike on the native and the atob path', () => {
    const bytes = new Uint8Array(300);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 11) & 0xff;
    for (let n = 0; n <= 40; n++) {
      const b = bytes.subarray(0, n);
      expect(fromBase64Url(toBase64Url(b))).toEqual(b);
      expect(fromBase64(toBase64(b))).toEqual(b);
    }
    const invalid = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isSealgateError(e, 'invalid_argument')).toBe(true);
      }
    };
    // A lone last character, padding, whitespace, the other alphabet: refused by base64url.
    for (const bad of ['A', 'AAAAA', 'AA==', 'AA AA', 'AA+A', 'AA/A', 'AA\nA'])
      invalid(() => fromBase64Url(bad));
    for (const bad of ['A', 'AAAAA', 'A===', 'AA=', 'AA-_', '%%%%']) invalid(() => fromBase64(bad));
    // atob's forgiving-base64: unused low bits are ignored when decoding (canonicality is checked apart).
    expect(fromBase64Url('AB')).toEqual(new Uint8Array([0]));
    expect(fromBase64('AB==')).toEqual(new Uint8Array([0]));
  });
  // RFC 4648 §4/§5 spelled out bit by bit: what the native and the table-driven (Node 20) codecs
  // must both agree with, on every length's tail.
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const reference = (b: Uint8Array, url: boolean) => {
    let bits = '';
    for (const x of b) bits += x.toString(2).padStart(8, '0');
    while (bits.length % 6 !== 0) bits += '0';
    let out = '';
    for (let i = 0; i < bits.length; i += 6) out += ALPHABET[Number.parseInt(bits.slice(i, i + 6), 2)];
    if (url) return out.replace(/\+/g, '-').replace(/\//g, '_');
    return out + '='.repeat((4 - (out.length % 4)) % 4);
  };
  it('encodes and decodes base64 and base64url as RFC 4648 spells them (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(8), (b, offset) => {
        // A view into a larger buffer too: the codec must honour byteOffset.
        const big = new Uint8Array(b.length + offset + 3).fill(0xa5);
        big.set(b, offset);
        const view = big.subarray(offset, offset + b.length);
        expect(toBase64Url(view)).toBe(reference(b, true));
        expect(toBase64(view)).toBe(reference(b, false));
        expect(fromBase64Url(reference(b, true))).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });
  it('decodes base64url text of any characters as the reference does, or refuses it (property)', () => {
    const chars = fc.constantFrom(...'AZaz09-_+/= .\n%\u00e9\u0100'.split(''), 'Q', 'w');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), (parts) => {
        const s = parts.join('');
        const valid = /^[A-Za-z0-9_-]*$/.test(s) && s.length % 4 !== 1;
        let got: Uint8Array | 'refused';
        try {
          got = fromBase64Url(s);
        } catch (e) {
          expect(isSealgateError(e, 'invalid_argument')).toBe(true);
          got = 'refused';
        }
        if (!valid) {
          expect(got).toBe('refused');
          return;
        }
        // Decoding ignores the unused low bits: re-encoding gives the canonical spelling.
        expect(got).not.toBe('refused');
        const bytes = got as Uint8Array;
        expect(bytes.length).toBe(Math.floor((s.length * 6) / 8));
        const again = reference(bytes, true);
        expect(again.length).toBe(s.length);
        expect(again.slice(0, -1)).toBe(s.slice(0, -1));
        if (s.length % 4 === 0) expect(again).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
  it('knows the canonical base64url spelling without re-encoding', () => {
    for (let n = 0; n <= 20; n++) {
      const s = toBase64Url(new Uint8Array(n).fill(0xff));
      expect(isCanonicalBase64UrlTail(s)).toBe(true);
    }
    expect(isCanonicalBase64UrlTail('AB')).toBe(false); // 4 unused bits set
    expect(isCanonicalBase64UrlTail('AAB')).toBe(false); // 2 unused bits set
    expect(isCanonicalBase64UrlTail('AAE')).toBe(true);
    expect(isCanonicalBase64UrlTail('AAAAA')).toBe(false); // a lone last character
    const field = (v: string) => decodeBase64UrlField(v, { code: 'decryption_failed', message: 'nope' });
    expect(field('AAE')).toEqual(new Uint8Array([0, 1]));
    for (const bad of ['AB', 'AAB', 'AAAAA', 'AA==', 'AA A']) {
      expect(() => field(bad)).toThrow('nope');
    }
  });
  // workerd's native decoder skips whitespace and takes padding ("loose"); only the length check
  // after it refuses them there. Long texts too: a skipped character anywhere, not only near the end.
  it('refuses whitespace and padding anywhere in long base64url text', () => {
    const text = toBase64Url(new Uint8Array(3000).map((_, i) => (i * 131 + 7) & 0xff));
    const field = (v: string) => decodeBase64UrlField(v, { code: 'decryption_failed', message: 'nope' });
    expect(fromBase64Url(text).length).toBe(3000);
    for (const extra of [' ', '\t', '\n', '\f', '\r', '=', '==', '+', '/', '\u00e9']) {
      for (const at of [0, 1, 1999, 2000, text.length - 1, text.length]) {
        const bad = text.slice(0, at) + extra + text.slice(at);
        expect(() => fromBase64Url(bad), `${JSON.stringify(extra)} at ${at}`).toThrow(/invalid/);
        expect(() => field(bad), `${JSON.stringify(extra)} at ${at}`).toThrow('nope');
      }
    }
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
