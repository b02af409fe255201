/**
 * The few DER values the development chain writes by hand (ITU-T X.690 §8 and §10): extension
 * values and the RSASSA-PSS parameters must come out byte for byte like AMD's, including AMD's
 * non-minimal choices (an explicit default trailerField, a KeyUsage BIT STRING with one unused
 * bit), which a general-purpose encoder would "correct". Everything structural (Name, Validity,
 * SubjectPublicKeyInfo, the TBSCertificate) goes through @peculiar/asn1-x509 instead.
 */
import { concatBytes } from '../../bytes.js';
import { SealgateError } from '../../errors.js';

/** Definite-length TLV (X.690 §8.1.3). */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let len: Uint8Array;
  if (n < 0x80) len = Uint8Array.of(n);
  else if (n < 0x100) len = Uint8Array.of(0x81, n);
  else if (n < 0x10000) len = Uint8Array.of(0x82, n >> 8, n & 0xff);
  else throw new SealgateError('internal', `der: content of ${n} bytes is longer than this encoder handles`);
  return concatBytes(Uint8Array.of(tag), len, content);
}

export const sequence = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, concatBytes(...parts));

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

export const integer = (value: number): Uint8Array => tlv(0x02, integerContent(value));

export const octetString = (content: Uint8Array): Uint8Array => tlv(0x04, content);

/** Context-specific constructed [n] (explicit tagging). */
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);
