/**
 * The one DER writer (ITU-T X.690 §8 and §10) for values written by hand: extension values, the
 * RSASSA-PSS parameters and names that must come out byte for byte like AMD's (including AMD's
 * explicit default trailerField), OIDs with arcs of any size, and Sealgate's own names. Structures
 * a general encoder writes well (Name, Validity, the TBSCertificate of a simulated chain) go
 * through @peculiar/asn1-x509 instead. Readers never use this module: they use der.ts.
 */
import { concatBytes } from '../bytes.js';
import { SealgateError } from '../errors.js';

export const TAG_INTEGER = 0x02;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_PRINTABLE_STRING = 0x13;
export const TAG_IA5STRING = 0x16;
export const TAG_SEQUENCE = 0x30;
export const TAG_SET = 0x31;

/** Definite-length TLV, short or long form (X.690 §8.1.3), lengths below 2^32. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  if (n >= 2 ** 32) throw new SealgateError('internal', `der: content of ${n} bytes is too long`);
  if (n < 0x80) return concatBytes(Uint8Array.of(tag, n), content);
  const len: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v & 0xff);
  return concatBytes(Uint8Array.of(tag, 0x80 | len.length, ...len), content);
}

export const sequence = (...parts: Uint8Array[]): Uint8Array => tlv(TAG_SEQUENCE, concatBytes(...parts));

/** Content octets of a non-negative INTEGER: minimal two's complement (X.690 §8.3.2). */
export function integerContent(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SealgateError('internal', `der: integer ${value} is not a non-negative safe integer`);
  }
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Uint8Array.from(bytes);
}

/** Minimal positive INTEGER contents of an unsigned big-endian number (X.690 §8.3.2). */
export function unsignedIntegerContent(raw: Uint8Array): Uint8Array {
  let i = 0;
  while (i < raw.length - 1 && raw[i] === 0) i++;
  const v = raw.subarray(i);
  return v[0]! & 0x80 ? concatBytes(Uint8Array.of(0), v) : v.slice();
}

export const integer = (value: number): Uint8Array => tlv(TAG_INTEGER, integerContent(value));

export const octetString = (content: Uint8Array): Uint8Array => tlv(TAG_OCTET_STRING, content);

/** Context-specific constructed [n] (explicit tagging). */
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);

/** Contents octets of an OBJECT IDENTIFIER in dotted form (X.690 §8.19); arcs of any size. */
export function oidContent(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) {
    throw new SealgateError('invalid_argument', `der: not a dotted OID: ${dotted}`);
  }
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [first, second, ...rest] = arcs as [bigint, bigint, ...bigint[]];
  if (first < 2n && second > 39n)
    throw new SealgateError('invalid_argument', `der: bad second arc in ${dotted}`);
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    // Base 128, most significant group first, high bit set on all but the last (§8.19.2).
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return Uint8Array.from(out);
}

/** A DER INTEGER in [0, 255] (an AMD SPL or structVersion). */
export function encodeDerUint8(n: number, name = 'INTEGER'): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 255) {
    throw new SealgateError('invalid_argument', `${name}: must be an integer in [0, 255]`);
  }
  return tlv(TAG_INTEGER, integerContent(n));
}

/** A DER IA5String (ASCII, X.680 §41). */
export function encodeDerIa5String(s: string, name = 'IA5String'): Uint8Array {
  const codes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new SealgateError('invalid_argument', `${name}: must be ASCII`);
    codes.push(c);
  }
  return tlv(TAG_IA5STRING, Uint8Array.from(codes));
}
