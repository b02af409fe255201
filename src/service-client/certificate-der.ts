/**
 * The DER pieces of the worker certificate that are done by hand, on bytes (ITU-T X.690):
 *
 * - OBJECT IDENTIFIER contents (§8.19), arcs of any size. Sealgate's arc is a UUID arc
 *   (2.25.<128-bit integer>, ITU-T X.667), and @peculiar's ASN.1 layer does not round-trip arcs
 *   beyond 2^53: it decodes one as "2.25.{hex}" and re-encodes that as plain 2.25. Readers never go
 *   through it: the verifier's strict reader (src/evidence/snp/x509-fields.ts `decodeOid`) decodes
 *   every arc exactly, and worker-certificate.ts matches Sealgate's extensions by that dotted text.
 * - The Sealgate names (one commonName), so no X.509 library is needed to compare them.
 * - ECDSA signatures: WebCrypto speaks IEEE P1363 (r ‖ s), X.509 carries
 *   Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5480 §2.2 / RFC 3279 §2.2.3).
 */
import { concatBytes } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { readTlv } from '../evidence/snp/der.js';
import { childTlvs } from '../evidence/snp/x509-fields.js';

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `worker certificate: ${message}`);
}

/** Definite-length TLV, short or long form (X.690 §8.1.3). */
export function derTlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len =
    n < 0x80
      ? Uint8Array.of(n)
      : n < 0x100
        ? Uint8Array.of(0x81, n)
        : n < 0x10000
          ? Uint8Array.of(0x82, n >> 8, n & 0xff)
          : (() => {
              throw new SealgateError('internal', 'derTlv: content too long');
            })();
  return concatBytes(Uint8Array.of(tag), len, content);
}

/** Contents octets of an OBJECT IDENTIFIER in dotted form; arcs of any size (BigInt). */
export function encodeOidContent(dotted: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) {
    throw new SealgateError('invalid_argument', `encodeOidContent: not a dotted OID: ${dotted}`);
  }
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [first, second, ...rest] = arcs as [bigint, bigint, ...bigint[]];
  if (first < 2n && second > 39n)
    throw new SealgateError('invalid_argument', `encodeOidContent: bad second arc in ${dotted}`);
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    // Base 128, most significant group first, high bit set on all but the last (§8.19.2).
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return Uint8Array.from(out);
}

/**
 * Name ::= RDNSequence (RFC 5280 §4.1.2.4) of one RDN holding one commonName (2.5.4.3), written
 * `CN=<value>`, the value a PrintableString (X.680 §41.4) of letters, digits and '-' (the Sealgate
 * names; what @peculiar/x509's `Name` writes for them too, checked in the tests). The issuer and
 * every reader use these bytes: names are compared as DER, never as text.
 */
export function encodeCommonNameDer(text: string): Uint8Array {
  const m = /^CN=([A-Za-z0-9-]{1,64})$/.exec(text);
  if (!m)
    throw new SealgateError('invalid_argument', `encodeCommonNameDer: not CN=<letters, digits, ->: ${text}`);
  const value = Uint8Array.from(m[1]!, (c) => c.charCodeAt(0));
  const atv = derTlv(0x30, concatBytes(derTlv(0x06, encodeOidContent('2.5.4.3')), derTlv(0x13, value)));
  return derTlv(0x30, derTlv(0x31, atv));
}

/** Minimal positive INTEGER contents of an unsigned big-endian number (X.690 §8.3.2). */
function unsignedIntegerContent(raw: Uint8Array): Uint8Array {
  let i = 0;
  while (i < raw.length - 1 && raw[i] === 0) i++;
  const v = raw.subarray(i);
  return v[0]! & 0x80 ? concatBytes(Uint8Array.of(0), v) : v.slice();
}

/** P1363 r ‖ s (2·n bytes) → DER Ecdsa-Sig-Value. */
export function ecdsaP1363ToDer(sig: Uint8Array): Uint8Array {
  const n = sig.length / 2;
  return derTlv(
    0x30,
    concatBytes(
      derTlv(0x02, unsignedIntegerContent(sig.subarray(0, n))),
      derTlv(0x02, unsignedIntegerContent(sig.subarray(n))),
    ),
  );
}

/** DER Ecdsa-Sig-Value → P1363 r ‖ s with each half `n` bytes; strict (minimal, positive, in range). */
export function ecdsaDerToP1363(der: Uint8Array, n: number): Uint8Array {
  const seq = readTlv(der, 0, 'signature');
  if (seq.tag !== 0x30 || seq.end !== der.length) throw bad('signature is not one SEQUENCE');
  const ints = childTlvs(der, seq, 'signature');
  if (ints.length !== 2) throw bad('signature is not { r, s }');
  const out = new Uint8Array(2 * n);
  ints.forEach((t, i) => {
    let v = der.subarray(t.start, t.end);
    if (t.tag !== 0x02 || v.length === 0 || v[0]! & 0x80) throw bad('signature integer is not positive');
    if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw bad('signature integer is not minimal');
    if (v[0] === 0) v = v.subarray(1);
    if (v.length > n) throw bad('signature integer too large');
    out.set(v, i * n + (n - v.length));
  });
  return out;
}
