/**
 * Real certificates and CRLs rebuilt for hostile-chain tests: a real certificate's TBSCertificate
 * taken apart into its fields (RFC 5280 §4.1), one field changed, and the result signed for real
 * with a key made in the test — so that a verifier pinned to the test's own root sees a chain
 * whose every signature verifies, and only the one change is wrong. Also CRLs (§5.1) built from
 * parts and signed the same way. Real crypto throughout (WebCrypto); no verifier code is mocked.
 */
import { concatBytes, toArrayBuffer } from '../../src/bytes.js';
import { ecdsaP1363ToDer } from '../../src/der/ecdsa-signature.js';
import { explicit, integer, sequence, tlv } from '../../src/der/write.js';
import { children as rawChildren } from '../platform/simulator/der-walk.js';

/** TBSCertificate fields of a v3 certificate, by their RFC 5280 §4.1 names. */
export const TBS = {
  version: 0,
  serial: 1,
  signature: 2,
  issuer: 3,
  validity: 4,
  subject: 5,
  spki: 6,
  extensions: 7,
} as const;

/** The TBSCertificate's fields, raw, of a DER certificate. */
export function tbsFields(cert: Uint8Array): Uint8Array[] {
  return rawChildren(rawChildren(cert)[0]!);
}

/** `fields` with field `i` replaced by `value` (a copy). */
export function withField(fields: readonly Uint8Array[], i: number, value: Uint8Array): Uint8Array[] {
  const out = fields.slice();
  out[i] = value;
  return out;
}

/** A signer: the signatureValue's bytes (what goes in the BIT STRING) for `data`. */
export type Signer = (data: Uint8Array) => Promise<Uint8Array>;

/** TBSCertificate from `fields`, the outer `algorithm` (default: the TBS's own), signed by `sign`. */
export async function buildCertificate(
  fields: readonly Uint8Array[],
  sign: Signer,
  algorithm: Uint8Array = fields[TBS.signature]!,
): Promise<Uint8Array> {
  const tbs = sequence(...fields);
  const bits = tlv(0x03, concatBytes(Uint8Array.of(0), await sign(tbs)));
  return sequence(tbs, algorithm, bits);
}

/** DER OIDs (tag and length included) of the extensions `replaceExtension` is given. */
export const BASIC_CONSTRAINTS = '0603551d13';
export const KEY_USAGE = '0603551d0f';

/** Replaces the extension with DER OID `oidHex` (e.g. "0603551d13") by `ext`, or drops it (null). */
export function replaceExtension(fields: Uint8Array[], oidHex: string, ext: Uint8Array | null): Uint8Array[] {
  const list = rawChildren(rawChildren(fields[TBS.extensions]!)[0]!);
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  let found = false;
  const edited = list.flatMap((e) => {
    if (hex(rawChildren(e)[0]!) !== oidHex) return [e];
    found = true;
    return ext === null ? [] : [ext];
  });
  if (!found) throw new Error(`extension ${oidHex} not found`);
  const out = fields.slice();
  out[TBS.extensions] = explicit(3, sequence(...edited));
  return out;
}

/** basicConstraints (critical) with cA and an optional pathLenConstraint (§4.2.1.9). */
export function basicConstraints(ca: boolean, pathLen?: number): Uint8Array {
  const value = sequence(
    ...(ca ? [Uint8Array.of(0x01, 0x01, 0xff)] : []),
    ...(pathLen !== undefined ? [integer(pathLen)] : []),
  );
  return sequence(Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff), tlv(0x04, value));
}

/** keyUsage (critical) with exactly the bits of `firstByte` (bit 0 = 0x80 digitalSignature, §4.2.1.3). */
export function keyUsage(firstByte: number): Uint8Array {
  let unused = 0;
  while (unused < 7 && !(firstByte & (1 << unused))) unused++;
  return sequence(
    Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff),
    tlv(0x04, tlv(0x03, Uint8Array.of(unused, firstByte))),
  );
}

/** An RSA key pair (2048 bits: the verifier takes any size; AMD's are 4096) for RSASSA-PSS `hash`. */
export async function rsaPssKeys(hash: 'SHA-256' | 'SHA-384' = 'SHA-384'): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(
    { name: 'RSA-PSS', modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
}

/** The SubjectPublicKeyInfo of a public key. */
export async function spkiOf(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('spki', key));
}

/** RSASSA-PSS with MGF1 of the same `hash` and `saltLength`, by `keys`' private key (re-imported for `hash`). */
export async function pssSigner(
  keys: CryptoKeyPair,
  hash: 'SHA-256' | 'SHA-384',
  saltLength: number,
): Promise<Signer> {
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-PSS', hash }, false, ['sign']);
  return async (data) =>
    new Uint8Array(await crypto.subtle.sign({ name: 'RSA-PSS', saltLength }, key, toArrayBuffer(data)));
}

/** An ECDSA key pair on `curve`. */
export async function ecdsaKeys(curve: 'P-256' | 'P-384'): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

/** ECDSA with `hash`, the signature as DER Ecdsa-Sig-Value (RFC 5480 §2.2.3 / X.509). */
export function ecdsaSigner(keys: CryptoKeyPair, hash: 'SHA-256' | 'SHA-384'): Signer {
  return async (data) =>
    ecdsaP1363ToDer(
      new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash }, keys.privateKey, toArrayBuffer(data))),
    );
}

/** UTCTime of a date in 1950–2049 (RFC 5280 §5.1.2.4). */
export function utcTime(d: Date): Uint8Array {
  const text = d.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return tlv(0x17, new TextEncoder().encode(`${text}Z`));
}

export interface CrlParts {
  algorithm: Uint8Array;
  /** The outer signatureAlgorithm; default `algorithm`. */
  outerAlgorithm?: Uint8Array;
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Serials as INTEGER content bytes (hex), listed in this order (repeats kept). */
  revoked?: readonly string[];
  /** Whole Extension TLVs for crlExtensions [0]. */
  extensions?: readonly Uint8Array[];
}

/** A v2 CRL from `parts`, signed by `sign`. */
export async function buildCrl(parts: CrlParts, sign: Signer): Promise<Uint8Array> {
  const hexBytes = (h: string) => Uint8Array.from(h.match(/../g)!, (x) => Number.parseInt(x, 16));
  const entries = (parts.revoked ?? []).map((s) =>
    sequence(tlv(0x02, hexBytes(s)), utcTime(parts.thisUpdate)),
  );
  const tbs = sequence(
    integer(1),
    parts.algorithm,
    parts.issuer,
    utcTime(parts.thisUpdate),
    utcTime(parts.nextUpdate),
    ...(entries.length > 0 ? [sequence(...entries)] : []),
    ...(parts.extensions?.length ? [explicit(0, sequence(...parts.extensions))] : []),
  );
  const bits = tlv(0x03, concatBytes(Uint8Array.of(0), await sign(tbs)));
  return sequence(tbs, parts.outerAlgorithm ?? parts.algorithm, bits);
}

/** An Extension { id-ce `lastArc`, critical?, value }: 2.5.29.`lastArc`. */
export function extension(lastArc: number, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(
    Uint8Array.of(0x06, 0x03, 0x55, 0x1d, lastArc),
    ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []),
    tlv(0x04, value),
  );
}
