/**
 * A strict DER reader (ITU-T X.690 §10): definite, minimal lengths (§10.1, §8.1.3), low tag
 * numbers, minimal two's-complement INTEGERs (§8.3.2), no trailing bytes; plus the two small
 * values AMD's VCEK/VLEK extensions hold (pub. 57230 Table 8: INTEGER SPLs, IA5String names).
 * Errors are `malformed_certificate` with the field name first. The writer is write.ts.
 */
import { SealgateError } from '../errors.js';

export const TAG_INTEGER = 0x02;
export const TAG_IA5STRING = 0x16;
export const TAG_SEQUENCE = 0x30;

function bad(name: string, message: string): SealgateError {
  return new SealgateError('malformed_certificate', `${name}: ${message}`, { field: name });
}

export interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset one past the last content byte. */
  end: number;
}

/** One TLV at `offset`, low-tag-number form only; its content must lie inside `bytes`. */
export function readTlv(bytes: Uint8Array, offset: number, name: string): Tlv {
  if (offset + 2 > bytes.length) throw bad(name, 'truncated DER');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw bad(name, 'high-tag-number DER tags are not supported');
  const first = bytes[offset + 1]!;
  let pos = offset + 2;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw bad(name, 'indefinite DER length');
    if (n > 4) throw bad(name, 'DER length too large');
    if (pos + n > bytes.length) throw bad(name, 'truncated DER');
    if (bytes[pos] === 0) throw bad(name, 'non-minimal DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[pos + i]!;
    if (length < 0x80) throw bad(name, 'non-minimal DER length');
    pos += n;
  }
  if (pos + length > bytes.length) throw bad(name, 'truncated DER');
  return { tag, start: pos, end: pos + length };
}

/** The whole of `bytes` must be exactly one TLV with `tag`. */
function single(bytes: Uint8Array, tag: number, name: string, what: string): Tlv {
  const tlv = readTlv(bytes, 0, name);
  if (tlv.tag !== tag) {
    throw bad(
      name,
      `expected ${what} (tag 0x${tag.toString(16).padStart(2, '0')}), got tag 0x${tlv.tag.toString(16).padStart(2, '0')}`,
    );
  }
  if (tlv.end !== bytes.length) throw bad(name, 'trailing bytes after the DER value');
  return tlv;
}

/** A DER INTEGER in [0, 255] (an SPL or structVersion). */
export function decodeDerUint8(bytes: Uint8Array, name: string): number {
  const { start, end } = single(bytes, TAG_INTEGER, name, 'a DER INTEGER');
  const len = end - start;
  if (len === 0) throw bad(name, 'empty INTEGER');
  const b0 = bytes[start]!;
  if (len > 1) {
    const b1 = bytes[start + 1]!;
    if ((b0 === 0x00 && b1 < 0x80) || (b0 === 0xff && b1 >= 0x80)) throw bad(name, 'non-minimal INTEGER');
  }
  if (b0 >= 0x80) throw bad(name, 'negative INTEGER');
  // Minimal and non-negative: one content byte is 0..127, two are 0x00 then 128..255.
  if (len > 2 || (len === 2 && b0 !== 0)) throw bad(name, 'INTEGER exceeds 255');
  return bytes[end - 1]!;
}

/** A DER IA5String (ASCII, X.680 §41). */
export function decodeDerIa5String(bytes: Uint8Array, name: string): string {
  const { start, end } = single(bytes, TAG_IA5STRING, name, 'a DER IA5String');
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c > 0x7f) throw bad(name, 'IA5String has a non-ASCII byte');
    s += String.fromCharCode(c);
  }
  return s;
}
