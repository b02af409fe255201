/**
 * A strict DER reader for the few X.509 fields the verifier uses besides the signed bytes: the
 * version, names (subject CNs and their text; the issuer is checked the same way), validity, and
 * the extensions (with basicConstraints and keyUsage). Used for every certificate a verifier
 * reads (AMD's, Intel's, NVIDIA's, the attestation service's worker certificates). Written by hand
 * rather than through a general ASN.1 library for strictness and speed on the verification path
 * (docs/benchmarks.md, `snp.cold.*`).
 *
 * Strict means X.690 §10 DER as `readTlv` (./der.ts) reads it: definite minimal
 * lengths, every element inside its parent, no trailing bytes; plus the DER rules of the types read
 * here (BOOLEAN TRUE is 0xFF and a DEFAULT FALSE is absent, §11.1 and §11.5; times end in `Z` and
 * carry seconds, §11.7–11.8 and RFC 5280 §4.1.2.5; BIT STRING unused bits are zero, §11.2.1). Every
 * failure is `malformed_certificate`, and the work stays linear in the input whatever its shape.
 */
import { SealgateError } from '../errors.js';
import { readTlv, type Tlv } from './der.js';

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
  extensions: 0xa3,
} as const;

const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_COMMON_NAME = '2.5.4.3';

/**
 * Short names of attribute types in the subject text (RFC 4514 §3, plus E, G, I, SN, T as common
 * tools print them); any other type is written as its dotted OID, as RFC 4514 §2.3 allows.
 */
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'T',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
};

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `certificate: ${message}`);
}

function tlvAt(der: Uint8Array, offset: number, end: number, name: string): Tlv {
  let t: Tlv;
  try {
    t = readTlv(der, offset, name);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (t.end > end) throw bad(`${name}: element overruns its parent`);
  return t;
}

/** Every TLV directly inside [start, end), in order. */
function childrenOf(der: Uint8Array, start: number, end: number, name: string): (Tlv & { at: number })[] {
  const out: (Tlv & { at: number })[] = [];
  for (let pos = start; pos < end; ) {
    const t = tlvAt(der, pos, end, name);
    out.push({ tag: t.tag, start: t.start, end: t.end, at: pos });
    pos = t.end;
  }
  return out;
}

function expectTag(t: Tlv, tag: number, name: string): void {
  if (t.tag !== tag) {
    throw bad(`${name}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  }
}

/** Most base-128 digits in one OID arc: 448 bits, 3.5× a UUID arc (X.667), decimal text in ~µs. */
export const MAX_OID_ARC_DIGITS = 64;

/**
 * OBJECT IDENTIFIER content → dotted text (X.690 §8.19): base-128 arcs, minimal (no leading 0x80,
 * §8.19.2), the first subidentifier split as 40·X + Y (§8.19.4). Arcs of any size, exactly: up to
 * 7 base-128 digits (49 bits) as a number, longer ones as a BigInt built from their bits in one
 * step (UUID arcs, ITU-T X.667, are 128-bit). At most MAX_OID_ARC_DIGITS digits per arc: the build
 * is linear, but the BigInt's decimal text is not (a 32 KiB arc cost 28 ms, a 64 KiB one 70 ms;
 * the class of OpenSSL's CVE-2023-2650), and no arc anyone assigns comes near the bound.
 */
export function decodeOid(bytes: Uint8Array, start: number, end: number, name = 'OID'): string {
  const known = knownOid(bytes, start, end);
  if (known !== undefined) return known;
  const text = decodeOidArcs(bytes, start, end, name);
  if (COMMON_OIDS.has(text)) rememberOid(bytes, start, end, text);
  return text;
}

/**
 * The OIDs of nearly every certificate a verifier reads — name attribute types (RFC 4519), the
 * RFC 5280 §4.2.1 extensions, AMD's VCEK/VLEK extensions (pub. 57230 Table 8) — whose text is kept
 * with their content bytes once decoded, so that reading them again builds no string (a VCEK has
 * about 25 OIDs: ~6 KB of garbage per parse before). Fixed, so the table is bounded by it and
 * cannot be filled by anyone's input; a decoded text stands for exactly one byte string, because
 * `decodeOidArcs` admits only minimal (DER) subidentifiers.
 */
const COMMON_OIDS = new Set([
  ...Object.keys(SHORT_NAMES),
  '2.5.4.5', // serialNumber
  ...['14', '15', '17', '19', '31', '32', '35', '37'].map((n) => `2.5.29.${n}`),
  ...['1', '2', '3.1', '3.2', '3.3', '3.4', '3.5', '3.6', '3.7', '3.8', '3.9', '4', '5'].map(
    (n) => `1.3.6.1.4.1.3704.1.${n}`,
  ),
]);

/** Content bytes → text of the COMMON_OIDS seen so far, bucketed by length and last two bytes. */
const knownOids = new Map<number, { bytes: Uint8Array; text: string }[]>();

const oidBucket = (bytes: Uint8Array, start: number, end: number): number =>
  ((end - start) << 16) | (bytes[end - 2]! << 8) | bytes[end - 1]!;

function knownOid(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (end - start < 2) return undefined;
  const bucket = knownOids.get(oidBucket(bytes, start, end));
  if (bucket === undefined) return undefined;
  next: for (const k of bucket) {
    for (let i = 0; i < k.bytes.length; i++) if (k.bytes[i] !== bytes[start + i]) continue next;
    return k.text;
  }
  return undefined;
}

function rememberOid(bytes: Uint8Array, start: number, end: number, text: string): void {
  if (end - start < 2) return;
  const key = oidBucket(bytes, start, end);
  const bucket = knownOids.get(key) ?? [];
  if (bucket.some((k) => k.text === text)) return;
  bucket.push({ bytes: bytes.slice(start, end), text });
  knownOids.set(key, bucket);
}

/** `decodeOid` without the table: every arc read and checked. */
function decodeOidArcs(bytes: Uint8Array, start: number, end: number, name: string): string {
  if (end <= start) throw bad(`${name}: empty`);
  if (bytes[end - 1]! & 0x80) throw bad(`${name}: truncated subidentifier`);
  let out = '';
  let pos = start;
  while (pos < end) {
    if (bytes[pos] === 0x80) throw bad(`${name}: non-minimal subidentifier`);
    let last = pos;
    while (bytes[last]! & 0x80) last++;
    if (last - pos >= MAX_OID_ARC_DIGITS) {
      throw bad(
        `${name}: a subidentifier of ${last - pos + 1} base-128 digits (at most ${MAX_OID_ARC_DIGITS})`,
      );
    }
    let arc: number | bigint;
    if (last - pos < 7) {
      arc = 0;
      for (let i = pos; i <= last; i++) arc = arc * 128 + (bytes[i]! & 0x7f);
    } else {
      let bits = '0b';
      for (let i = pos; i <= last; i++) bits += (bytes[i]! & 0x7f).toString(2).padStart(7, '0');
      arc = BigInt(bits);
    }
    if (pos === start) {
      // X.690 §8.19.4: the first subidentifier is 40·X + Y, X ∈ {0, 1, 2}; X = 2 allows any Y.
      if (typeof arc === 'bigint') out = `2.${arc - 80n}`;
      else if (arc < 40) out = `0.${arc}`;
      else if (arc < 80) out = `1.${arc - 40}`;
      else out = `2.${arc - 80}`;
    } else {
      out += `.${arc}`;
    }
    pos = last + 1;
  }
  return out;
}

function readOid(der: Uint8Array, t: Tlv, name: string): string {
  expectTag(t, TAG.oid, name);
  return decodeOid(der, t.start, t.end, name);
}

/** Fatal on invalid UTF-8; a leading U+FEFF is kept as a character, not swallowed as a BOM. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * An attribute value: UTF8String, PrintableString or IA5String — what RFC 5280 §4.1.2.4 tells CAs
 * to use (UTF8String or PrintableString for DirectoryString; IA5String for emailAddress and
 * domainComponent, §4.1.2.6 and RFC 4519). TeletexString, BMPString, UniversalString and every
 * other type are refused: no certificate of the vectors uses them, and their decodings are where
 * readers disagree. `what` and `oid` name the attribute in errors only (its text is made only then).
 */
function readString(der: Uint8Array, t: Tlv, what: string, oid: string): string {
  const bytes = der.subarray(t.start, t.end);
  if (t.tag === TAG.utf8String) {
    const ascii = readAscii(bytes);
    if (ascii === CONTROL) throw bad(`${attributeName(what, oid)}: control character in a string`);
    if (ascii !== null) return ascii;
    let s: string;
    try {
      s = UTF8.decode(bytes);
    } catch {
      throw bad(`${attributeName(what, oid)}: UTF8String is not UTF-8`);
    }
    // Control characters (C0, DEL, C1) have no place in a name and would reach people's terminals
    // and logs through the subject text; refused as in PrintableString and IA5String below.
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        throw bad(`${attributeName(what, oid)}: control character in a string`);
    }
    return s;
  }
  if (t.tag === TAG.printableString || t.tag === TAG.ia5String) {
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      // X.680 §41.4 PrintableString ⊂ IA5String (ASCII); control characters are refused in both.
      if (c < 0x20 || c > 0x7e) throw bad(`${attributeName(what, oid)}: non-printable character in a string`);
      if (t.tag === TAG.printableString && PRINTABLE[c] !== 1) {
        throw bad(`${attributeName(what, oid)}: character outside PrintableString`);
      }
    }
    return asciiText(bytes);
  }
  throw bad(`${attributeName(what, oid)}: unsupported string type (tag 0x${t.tag.toString(16)})`);
}

/** "subject CN", "issuer 1.2.3.4": an attribute as errors name it. */
function attributeName(what: string, oid: string): string {
  return `${what} ${SHORT_NAMES[oid] ?? oid}`;
}

/** X.680 §41.4 PrintableString: A–Z a–z 0–9 space ' ( ) + , - . / : = ? (1 = allowed). */
const PRINTABLE = (() => {
  const t = new Uint8Array(128);
  for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?") {
    t[c.charCodeAt(0)] = 1;
  }
  return t;
})();

/**
 * Bytes already checked to be ASCII as text, in one native call (no string built a character at
 * a time; attribute values are far below the engines' argument limits, a Name's DER being bounded
 * by its certificate's).
 */
function asciiText(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** `readAscii`'s answer for a control character (C0 or DEL). */
const CONTROL = Symbol('control character');

/**
 * A UTF8String whose bytes are all ASCII (< 0x80) is that ASCII text (RFC 3629 §3), so it is read
 * without the decoder; null at a byte that is not ASCII (the decoder decides then), CONTROL at a
 * control character (C0 or DEL) before any such byte, which the caller refuses as the UTF-8 path
 * does.
 */
function readAscii(bytes: Uint8Array): string | null | typeof CONTROL {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return null;
    if (c < 0x20 || c === 0x7f) return CONTROL;
  }
  return asciiText(bytes);
}

/** A value that the escaping below changes: a special character, or a leading '#'/space, or a trailing space. */
const NEEDS_ESCAPE = /[\\"+,;<>]|^[ #]|[\s\S] $/;

/**
 * RFC 4514 §2.4 escaping of one attribute value, character by character: a special character
 * anywhere, a ' ' or '#' first, a ' ' last. A value of one space is "\ " (escaped once, as the
 * first character), not "\\ " (an escaped backslash and then a bare space).
 */
function escapeValue(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  let s = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    const edge = (i === 0 && (c === ' ' || c === '#')) || (i === v.length - 1 && c === ' ');
    s += edge || '\\"+,;<>'.includes(c) ? `\\${c}` : c;
  }
  return s;
}

export interface NameFields {
  /** Every commonName value, in order. */
  cns: string[];
  /** `type=value, …` in encoding order (RFC 4514 escaping; types by short name or dotted OID). */
  text: string;
}

/**
 * Name ::= RDNSequence ::= SEQUENCE OF SET OF AttributeTypeAndValue (RFC 5280 §4.1.2.4). Without
 * `withText` the name is checked just as strictly but its text is left empty (the issuer's: only its
 * DER is used).
 */
export function readName(der: Uint8Array, name: Tlv, what: string, withText = true): NameFields {
  expectTag(name, TAG.sequence, what);
  const cns: string[] = [];
  const parts: string[] = [];
  for (const rdn of childrenOf(der, name.start, name.end, what)) {
    expectTag(rdn, TAG.set, `${what} RDN`);
    const atvs = childrenOf(der, rdn.start, rdn.end, `${what} RDN`);
    if (atvs.length === 0) throw bad(`${what}: empty RDN`);
    const rdnParts: string[] = [];
    for (const atv of atvs) {
      expectTag(atv, TAG.sequence, `${what} attribute`);
      const fields = childrenOf(der, atv.start, atv.end, `${what} attribute`);
      if (fields.length !== 2) throw bad(`${what}: an attribute is not { type, value }`);
      const oid = readOid(der, fields[0]!, `${what} attribute type`);
      const value = readString(der, fields[1]!, what, oid);
      if (oid === OID_COMMON_NAME) cns.push(value);
      if (withText) rdnParts.push(`${SHORT_NAMES[oid] ?? oid}=${escapeValue(value)}`);
    }
    if (withText) parts.push(rdnParts.join('+'));
  }
  return { cns, text: parts.join(', ') };
}

/** The `n` ASCII digits at `from` as a number; NaN when one is not 0–9. */
function digits(der: Uint8Array, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = der[i]! - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * UTCTime `YYMMDDHHMMSSZ` (RFC 5280 §4.1.2.5.1: YY ≥ 50 is 19YY, else 20YY) or GeneralizedTime
 * `YYYYMMDDHHMMSSZ` (§4.1.2.5.2: no fraction). Calendar-checked: 30 February or 24:00:00 is refused.
 */
export function readTime(der: Uint8Array, t: Tlv, name: string): Date {
  const length = t.end - t.start;
  let year: number;
  let at: number;
  // Lengths first: a time is 13 or 15 ASCII bytes, whatever a hostile length says.
  if (t.tag === TAG.utcTime) {
    if (length !== 13) throw bad(`${name}: UTCTime must be YYMMDDHHMMSSZ`);
  } else if (t.tag === TAG.generalizedTime) {
    if (length !== 15) throw bad(`${name}: GeneralizedTime must be YYYYMMDDHHMMSSZ`);
  } else {
    throw bad(`${name}: not a UTCTime or GeneralizedTime`);
  }
  if (t.tag === TAG.utcTime) {
    const yy = digits(der, t.start, 2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    at = t.start + 2;
  } else {
    year = digits(der, t.start, 4);
    at = t.start + 4;
  }
  if (der[t.end - 1] !== 0x5a) throw bad(`${name}: time must be UTC (Z)`);
  const mo = digits(der, at, 2);
  const d = digits(der, at + 2, 2);
  const h = digits(der, at + 4, 2);
  const mi = digits(der, at + 6, 2);
  const se = digits(der, at + 8, 2);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999 (GeneralizedTime 0050 is 50 AD).
  const date = new Date(0);
  date.setUTCFullYear(year, mo - 1, d);
  date.setUTCHours(h, mi, se, 0);
  if (
    Number.isNaN(year + mo + d + h + mi + se) ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== se
  ) {
    throw bad(`${name}: not a valid date and time`);
  }
  return date;
}

export interface ExtensionFields {
  oid: string;
  critical: boolean;
  /** extnValue's content (the DER of the extension's own value). */
  value: Uint8Array;
}

/**
 * The extensions of a TBSCertificate, from the fields after subjectPublicKeyInfo: [1] and [2]
 * unique identifiers (skipped), then [3] EXPLICIT Extensions (RFC 5280 §4.1). An extension appears
 * at most once (§4.2).
 */
export function readExtensions(der: Uint8Array, afterSpki: readonly Tlv[]): ExtensionFields[] {
  const out: ExtensionFields[] = [];
  const seen = new Set<string>();
  let seenTag = 0;
  for (const field of afterSpki) {
    if (field.tag <= seenTag) throw bad('tbsCertificate: fields after subjectPublicKeyInfo out of order');
    seenTag = field.tag;
    if (field.tag === 0x81 || field.tag === 0x82) continue; // issuerUniqueID, subjectUniqueID
    if (field.tag !== TAG.extensions)
      throw bad(`tbsCertificate: unexpected field 0x${field.tag.toString(16)}`);
    const inner = childrenOf(der, field.start, field.end, 'extensions');
    if (inner.length !== 1) throw bad('extensions: [3] must hold one SEQUENCE');
    expectTag(inner[0]!, TAG.sequence, 'extensions');
    const list = childrenOf(der, inner[0]!.start, inner[0]!.end, 'extensions');
    if (list.length === 0) throw bad('extensions: empty (RFC 5280 §4.1: SIZE (1..MAX))');
    for (const ext of list) {
      expectTag(ext, TAG.sequence, 'extension');
      const parts = childrenOf(der, ext.start, ext.end, 'extension');
      const oid = readOid(der, parts[0] ?? ext, 'extension extnID');
      let critical = false;
      let i = 1;
      if (parts[i]?.tag === TAG.boolean) {
        critical = readBoolean(der, parts[i]!, `extension ${oid} critical`);
        // DER (X.690 §11.5): a value equal to its DEFAULT is absent, so an explicit FALSE is not DER.
        if (!critical) throw bad(`extension ${oid}: critical FALSE must be omitted (DER)`);
        i++;
      }
      const value = parts[i];
      if (!value || value.tag !== TAG.octetString || parts.length !== i + 1) {
        throw bad(`extension ${oid}: not { extnID, critical?, extnValue OCTET STRING }`);
      }
      if (seen.has(oid)) throw bad(`extension ${oid} appears twice (RFC 5280 §4.2)`);
      seen.add(oid);
      out.push({ oid, critical, value: der.slice(value.start, value.end) });
    }
  }
  return out;
}

function readBoolean(der: Uint8Array, t: Tlv, name: string): boolean {
  expectTag(t, TAG.boolean, name);
  if (t.end - t.start !== 1) throw bad(`${name}: BOOLEAN must be one byte`);
  const b = der[t.start]!;
  if (b !== 0x00 && b !== 0xff) throw bad(`${name}: BOOLEAN must be 0x00 or 0xFF (DER)`);
  return b === 0xff;
}

/**
 * BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
 * (§4.2.1.9): the cA flag and the constraint (null when absent; a value past 2^31 - 1, which no
 * path reaches, reads as 2^31 - 1).
 */
export function basicConstraints(value: Uint8Array): { ca: boolean; pathLen: number | null } {
  const seq = tlvAt(value, 0, value.length, 'basicConstraints');
  expectTag(seq, TAG.sequence, 'basicConstraints');
  if (seq.end !== value.length) throw bad('basicConstraints: trailing bytes');
  const parts = childrenOf(value, seq.start, seq.end, 'basicConstraints');
  let ca = false;
  let i = 0;
  if (parts[0]?.tag === TAG.boolean) {
    ca = readBoolean(value, parts[0], 'basicConstraints cA');
    if (!ca) throw bad('basicConstraints: cA FALSE must be omitted (DER)');
    i = 1;
  }
  const pathLen = parts[i];
  let limit: number | null = null;
  if (pathLen) {
    // pathLenConstraint INTEGER (0..MAX): non-negative, minimal two's complement (X.690 §8.3.2).
    expectTag(pathLen, TAG.integer, 'basicConstraints pathLenConstraint');
    const n = pathLen.end - pathLen.start;
    const b0 = value[pathLen.start];
    if (n === 0 || b0! & 0x80 || (n > 1 && b0 === 0 && !(value[pathLen.start + 1]! & 0x80))) {
      throw bad('basicConstraints: pathLenConstraint is not a minimal non-negative INTEGER');
    }
    limit = 0;
    for (let k = pathLen.start; k < pathLen.end; k++) limit = Math.min(limit * 256 + value[k]!, 0x7fffffff);
    i++;
  }
  if (parts.length !== i) throw bad('basicConstraints: unexpected elements');
  // §4.2.1.9: "CAs MUST NOT include the pathLenConstraint field unless the cA boolean is asserted".
  if (limit !== null && !ca) throw bad('basicConstraints: pathLenConstraint without cA');
  return { ca, pathLen: limit };
}

/**
 * KeyUsage ::= BIT STRING (§4.2.1.3): its first content byte, digitalSignature (bit 0) = 0x80 …
 * keyCertSign (bit 5) = 0x04, cRLSign (bit 6) = 0x02 (bits are numbered from the high end).
 */
function keyUsageFirstByte(value: Uint8Array): number {
  const t = tlvAt(value, 0, value.length, 'keyUsage');
  expectTag(t, TAG.bitString, 'keyUsage');
  if (t.end !== value.length) throw bad('keyUsage: trailing bytes');
  const len = t.end - t.start;
  if (len < 1) throw bad('keyUsage: empty BIT STRING');
  const unused = value[t.start]!;
  if (unused > 7 || (len === 1 && unused !== 0)) throw bad('keyUsage: bad unused-bits count');
  // DER (X.690 §11.2.1): the unused bits are zero.
  if (value[t.end - 1]! & ((1 << unused) - 1)) throw bad('keyUsage: unused bits are not zero (DER)');
  return len >= 2 ? value[t.start + 1]! : 0;
}

/** keyCertSign and cRLSign; both true when keyUsage is absent (§4.2.1.3: no restriction). */
function keyUsageSigns(value: Uint8Array | undefined): { mayCertSign: boolean; mayCrlSign: boolean } {
  if (value === undefined) return { mayCertSign: true, mayCrlSign: true };
  const bits = keyUsageFirstByte(value);
  return { mayCertSign: (bits & 0x04) !== 0, mayCrlSign: (bits & 0x02) !== 0 };
}

export interface TbsFields {
  subject: NameFields;
  notBefore: Date;
  notAfter: Date;
  extensions: ExtensionFields[];
  isCa: boolean;
  /** basicConstraints pathLenConstraint; null when absent. */
  pathLen: number | null;
  mayCertSign: boolean;
  mayCrlSign: boolean;
}

/**
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, serialNumber INTEGER, …}
 * (RFC 5280 §4.1): the version (0 = v1, 1 = v2, 2 = v3, §4.1.2.1) and where the fields after it
 * start. DER (X.690 §11.5) omits a DEFAULT value, so an explicit v1 is refused.
 */
export function readVersion(der: Uint8Array, fields: readonly Tlv[]): { version: number; offset: number } {
  const first = fields[0];
  let version = 0;
  let offset = 0;
  if (first?.tag === 0xa0) {
    const inner = childrenOf(der, first.start, first.end, 'version');
    const int = inner[0];
    if (inner.length !== 1 || int?.tag !== TAG.integer || int.end - int.start !== 1) {
      throw bad('version: [0] must hold one one-byte INTEGER');
    }
    version = der[int.start]!;
    if (version !== 1 && version !== 2)
      throw bad(`version: ${version} is not v2 or v3 (v1 is omitted in DER)`);
    offset = 1;
  }
  const serial = fields[offset];
  if (serial === undefined) throw bad('tbsCertificate: serialNumber missing');
  expectTag(serial, TAG.integer, 'serialNumber');
  return { version, offset };
}

/** The TBSCertificate's elements that `readTbsFields` decodes, as `parseCertificate` splits them. */
export interface TbsElements {
  /** From `readVersion`: extensions are v3 only (§4.1.2.9). */
  version: number;
  issuer: Tlv;
  validity: Tlv;
  subject: Tlv;
  /** Every element after subjectPublicKeyInfo. */
  afterSpki: readonly Tlv[];
}

/**
 * The fields above. The issuer Name is decoded as strictly as the subject, though only its DER
 * is used (chaining compares it byte for byte with the issuer's subject). Left as bytes, not
 * decoded here: the AlgorithmIdentifiers (the verifiers pin their exact DER) and
 * subjectPublicKeyInfo (WebCrypto's `importKey` parses it).
 */
export function readTbsFields(der: Uint8Array, e: TbsElements): TbsFields {
  const { version, validity, subject, afterSpki } = e;
  readName(der, e.issuer, 'issuer', false);
  expectTag(validity, TAG.sequence, 'validity');
  const times = childrenOf(der, validity.start, validity.end, 'validity');
  if (times.length !== 2) throw bad('validity: expected { notBefore, notAfter }');
  const notBefore = readTime(der, times[0]!, 'notBefore');
  const notAfter = readTime(der, times[1]!, 'notAfter');
  const extensions = readExtensions(der, afterSpki);
  if (extensions.length > 0 && version !== 2)
    throw bad('extensions in a certificate that is not v3 (§4.1.2.9)');
  const bc = extensions.find((e) => e.oid === OID_BASIC_CONSTRAINTS);
  const ku = extensions.find((e) => e.oid === OID_KEY_USAGE);
  const { ca, pathLen } = bc ? basicConstraints(bc.value) : { ca: false, pathLen: null };
  return {
    subject: readName(der, subject, 'subject'),
    notBefore,
    notAfter,
    extensions,
    isCa: ca,
    pathLen,
    ...keyUsageSigns(ku?.value),
  };
}

/** The TLVs directly inside `parent` (exported for the worker certificate's ECDSA signature). */
export function childTlvs(der: Uint8Array, parent: Tlv, name: string): Tlv[] {
  return childrenOf(der, parent.start, parent.end, name);
}

/**
 * The same fields from a whole certificate's DER (Certificate ::= SEQUENCE { tbsCertificate, … },
 * TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature, issuer, validity, subject,
 * subjectPublicKeyInfo, … }, RFC 5280 §4.1), for callers that need no signature check.
 */
export function readCertificateFields(der: Uint8Array): TbsFields {
  const outer = tlvAt(der, 0, der.length, 'certificate');
  expectTag(outer, TAG.sequence, 'certificate');
  if (outer.end !== der.length) throw bad('trailing bytes after the certificate');
  const parts = childrenOf(der, outer.start, outer.end, 'certificate');
  if (parts.length !== 3) throw bad(`expected 3 elements in Certificate, got ${parts.length}`);
  expectTag(parts[0]!, TAG.sequence, 'tbsCertificate');
  const fields = childrenOf(der, parts[0]!.start, parts[0]!.end, 'tbsCertificate');
  const { version, offset } = readVersion(der, fields);
  const [issuer, validity, subject, spki] = fields.slice(offset + 2, offset + 6);
  if (!issuer || !validity || !subject || !spki) throw bad('tbsCertificate: missing fields');
  return readTbsFields(der, { version, issuer, validity, subject, afterSpki: fields.slice(offset + 6) });
}
