/**
 * What the CLI prints of an endpoint's or a file's words (src/cli/printable.ts): no character that
 * moves the cursor, breaks the line or reorders it may reach the terminal as itself.
 */
import { describe, expect, it } from 'vitest';
import { printable } from '../../src/cli/printable.js';

describe('printable', () => {
  it('shows C0, DEL and C1 controls as \\xNN (ESC, CR, LF, NEL)', () => {
    expect(printable('a\x1b[2K\rVerdict: VERIFIED\n\x85\x7f\x9f')).toBe(
      'a\\x1b[2K\\x0dVerdict: VERIFIED\\x0a\\x85\\x7f\\x9f',
    );
  });

  it('shows bidi formatting characters and line/paragraph separators as \\u{XXXX}', () => {
    const hostile = [
      '\u061c',
      '\u200e',
      '\u200f',
      '\u2028',
      '\u2029',
      '\u202a',
      '\u202e',
      '\u2066',
      '\u2069',
    ];
    for (const c of hostile) {
      const shown = printable(`x${c}y`);
      expect(shown, c.charCodeAt(0).toString(16)).toBe(`x\\u{${c.charCodeAt(0).toString(16)}}y`);
    }
  });

  it('keeps every other character as it is (letters, emoji, ZWJ, NBSP)', () => {
    const text = 'Grüße 👩‍💻 日本語 a\u00a0b \u200d \u2030 ~';
    expect(printable(text)).toBe(text);
  });
});
