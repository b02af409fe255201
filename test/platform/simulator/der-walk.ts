/**
 * Test-side DER walking: the raw bytes of a certificate's pieces, so the simulator's output can be
 * compared byte for byte with AMD's real certificates. Built on the parser's strict `readTlv`.
 */
import { readTlv } from '../../../src/der/der.js';

/** The complete TLVs (header included) directly inside the constructed TLV `der`. */
export function children(der: Uint8Array): Uint8Array[] {
  const outer = readTlv(der, 0, 'test');
  const out: Uint8Array[] = [];
  for (let at = outer.start; at < outer.end; ) {
    const t = readTlv(der, at, 'test');
    out.push(der.subarray(at, t.end));
    at = t.end;
  }
  return out;
}

export interface CertPieces {
  /** TBSCertificate.signature (AlgorithmIdentifier). */
  tbsSignatureAlgorithm: Uint8Array;
  /** Certificate.signatureAlgorithm. */
  signatureAlgorithm: Uint8Array;
  subject: Uint8Array;
  /** Each Extension's OID (dotted), critical flag, and extnValue contents, in order. */
  extensions: { oid: string; critical: boolean; value: Uint8Array }[];
}

function oidToString(tlv: Uint8Array): string {
  const c = tlv.subarray(2);
  const parts = [Math.floor(c[0]! / 40), c[0]! % 40];
  let v = 0;
  for (const b of c.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export function certPieces(der: Uint8Array): CertPieces {
  const [tbs, signatureAlgorithm] = children(der) as [Uint8Array, Uint8Array];
  // TBSCertificate: [0] version, serial, signature, issuer, validity, subject, spki, [3] extensions
  const t = children(tbs);
  const extsWrapper = t.find((x) => x[0] === 0xa3);
  const extensions = extsWrapper
    ? children(children(extsWrapper)[0]!).map((ext) => {
        const parts = children(ext);
        const critical = parts.length === 3;
        const value = parts[parts.length - 1]!;
        return {
          oid: oidToString(parts[0]!),
          critical,
          value: value.subarray(readTlv(value, 0, 'test').start),
        };
      })
    : [];
  return { tbsSignatureAlgorithm: t[2]!, signatureAlgorithm, subject: t[5]!, extensions };
}
