/**
 * Hostile DER inside TDX collateral (the attested party supplies it in a bundle):
 *   - a certificate in the TCB info issuer chain whose subject names an attribute by an OID with
 *     one huge arc. Decoding such an arc to decimal text costs super-linear time (OpenSSL
 *     CVE-2023-2650's class); it must be refused as `cert_malformed` before any decimal text is
 *     made, not parsed and then found unsigned;
 *   - an issuer chain of hundreds of certificates: refused on the count before any is parsed or
 *     hashed (counted through the signature backend, not timed).
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, toBase64 } from '../../../src/bytes.js';
import { readTlv } from '../../../src/der/der.js';
import { decodeCertificates } from '../../../src/der/pem.js';
import { tlv } from '../../../src/der/write.js';
import { MAX_OID_ARC_DIGITS } from '../../../src/der/x509-fields.js';
import { type SignatureBackend, webCryptoSignatures } from '../../../src/verify/signature-backend.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import { codes, loadTdx, v } from './support.js';

/** The TLVs directly inside [start, end) of `der`, each as its whole bytes. */
function children(der: Uint8Array, start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let pos = start; pos < end; ) {
    const t = readTlv(der, pos, 'child');
    out.push(der.slice(pos, t.end));
    pos = t.end;
  }
  return out;
}

/**
 * `der` (a Certificate) with its subject replaced by CN-like { `oid`: "x" } (RFC 5280 §4.1:
 * tbsCertificate's sixth field). The signature no longer matches; the parse comes first.
 */
function withSubjectOid(der: Uint8Array, oid: Uint8Array): Uint8Array {
  const outer = readTlv(der, 0, 'certificate');
  const tbs = readTlv(der, outer.start, 'tbs');
  const fields = children(der, tbs.start, tbs.end);
  const atv = tlv(0x30, concatBytes(tlv(0x06, oid), tlv(0x0c, Uint8Array.of(0x78))));
  fields[5] = tlv(0x30, tlv(0x31, atv));
  const rest = der.slice(tbs.end, outer.end);
  return tlv(0x30, concatBytes(tlv(0x30, concatBytes(...fields)), rest));
}

function pem(ders: Uint8Array[]): string {
  const block = (d: Uint8Array) =>
    `-----BEGIN CERTIFICATE-----\n${toBase64(d).replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  return ders.map(block).join('');
}

/** An OID 2.<arc> whose one arc has `digits` base-128 digits (all 0x7f: the largest such arc). */
function hugeArcOid(digits: number): Uint8Array {
  const b = new Uint8Array(digits).fill(0xff);
  b[digits - 1] = 0x7f;
  return b;
}

describe.skipIf(!v.present)(`hostile DER in TDX collateral (phala-v4-uptodate) ${v.skipReason}`, () => {
  it('refuses a TCB info signer whose subject has a 24 KiB OID arc as cert_malformed', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const [signer, root] = decodeCertificates(new TextEncoder().encode(s.collateral.tcbInfoIssuerChain));
    const hostile = pem([withSubjectOid(signer!, hugeArcOid(24 * 1024)), root!]);
    const r = await verifyTdxEvidence({
      quote: s.quote,
      collateral: { ...s.collateral, tcbInfoIssuerChain: hostile },
      now: s.at,
    });
    expect(codes(r.violations)).toEqual(['cert_malformed']);
    expect(r.violations[0]!.message).toMatch(/subidentifier of 24576 base-128 digits/);
    expect(r.claims).toBeNull();
  });

  it('an arc at the bound still decodes (the chain then fails on its signature, not its shape)', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const [signer, root] = decodeCertificates(new TextEncoder().encode(s.collateral.tcbInfoIssuerChain));
    const atBound = pem([withSubjectOid(signer!, hugeArcOid(MAX_OID_ARC_DIGITS)), root!]);
    const r = await verifyTdxEvidence({
      quote: s.quote,
      collateral: { ...s.collateral, tcbInfoIssuerChain: atBound },
      now: s.at,
    });
    expect(codes(r.violations)).not.toContain('cert_malformed');
    expect(codes(r.violations)).toContain('cert_chain_invalid');
  });

  it('refuses a 250 KB issuer chain of 263 certificates on the count, hashing none of them', async () => {
    const s = loadTdx('phala-v4-uptodate');
    let digests = 0;
    const counting: SignatureBackend = {
      ...webCryptoSignatures,
      digest: (hash, data) => {
        digests++;
        return webCryptoSignatures.digest(hash, data);
      },
    };
    const run = async (tcbInfoIssuerChain: string) => {
      digests = 0;
      const collateral = { ...s.collateral, tcbInfoIssuerChain };
      const r = await verifyTdxEvidence({ quote: s.quote, collateral, now: s.at, signatures: counting });
      return { codes: codes(r.violations), digests };
    };
    const honest = await run(s.collateral.tcbInfoIssuerChain);
    expect(honest.codes).toEqual([]);
    const root = s.collateral.tcbInfoIssuerChain.match(
      /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g,
    )!;
    const many = await run(Array(263).fill(root.at(-1)).join('\n'));
    expect(many.codes).toEqual(['cert_chain_invalid']);
    // None of the 263 is hashed: no more digests than the honest run (which hashes the TCB info
    // and QE identity chains, the same text, once); before the count came first: 271.
    expect(many.digests).toBeLessThanOrEqual(honest.digests);
  });
});
