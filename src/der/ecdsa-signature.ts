/**
 * ECDSA signatures between the two encodings in use: WebCrypto speaks IEEE P1363 (r ‖ s, each
 * half the curve's byte length), X.509 and CRLs carry Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER,
 * s INTEGER } (RFC 5480 §2.2, RFC 3279 §2.2.3). The reader is strict: one SEQUENCE of two
 * minimal positive INTEGERs that fit the half length.
 */
import { concatBytes } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { readTlv } from './der.js';
import { TAG_INTEGER, TAG_SEQUENCE, tlv, unsignedIntegerContent } from './write.js';
import { childTlvs } from './x509-fields.js';

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `ECDSA signature: ${message}`);
}

/** P1363 r ‖ s (2·n bytes) → DER Ecdsa-Sig-Value. */
export function ecdsaP1363ToDer(sig: Uint8Array): Uint8Array {
  const n = sig.length / 2;
  return tlv(
    TAG_SEQUENCE,
    concatBytes(
      tlv(TAG_INTEGER, unsignedIntegerContent(sig.subarray(0, n))),
      tlv(TAG_INTEGER, unsignedIntegerContent(sig.subarray(n))),
    ),
  );
}

/** DER Ecdsa-Sig-Value → P1363 r ‖ s with each half `n` bytes; strict (minimal, positive, in range). */
export function ecdsaDerToP1363(der: Uint8Array, n: number): Uint8Array {
  const seq = readTlv(der, 0, 'signature');
  if (seq.tag !== 0x30 || seq.end !== der.length) throw bad('not one SEQUENCE');
  const ints = childTlvs(der, seq, 'signature');
  if (ints.length !== 2) throw bad('not { r, s }');
  const out = new Uint8Array(2 * n);
  ints.forEach((t, i) => {
    let v = der.subarray(t.start, t.end);
    if (t.tag !== 0x02 || v.length === 0 || v[0]! & 0x80) throw bad('an integer is not positive');
    if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw bad('an integer is not minimal');
    if (v[0] === 0) v = v.subarray(1);
    if (v.length > n) throw bad('an integer is too large');
    out.set(v, i * n + (n - v.length));
  });
  return out;
}
