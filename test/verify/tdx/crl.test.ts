/**
 * CRLs are authenticated before they are believed. On the real phala-v4 set: an empty, garbage,
 * expired (Intel's genuine 2023 CRLs), re-signed, foreign-issuer or missing Root CA CRL or PCK CRL
 * fails verification; a re-signed CRL that lists the PCK's serial is refused as a CRL, never
 * believed. With a test CA (WebCrypto keys): an authenticated CRL that lists the PCK's serial gives
 * `cert_revoked`, and src/der/crl.ts refuses malformed CRL shapes.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, toArrayBuffer } from '../../../src/bytes.js';
import { parseX509Certificate } from '../../../src/der/certificate.js';
import { parseCrl } from '../../../src/der/crl.js';
import { ecdsaP1363ToDer } from '../../../src/der/ecdsa-signature.js';
import { tlv } from '../../../src/der/write.js';
import { parseQuote } from '../../../src/evidence/tdx/parse-quote.js';
import { webCryptoSignatures } from '../../../src/verify/signature-backend.js';
import type { TdxCollateral } from '../../../src/verify/tdx/collateral.js';
import { authenticateCrl, checkNotRevoked } from '../../../src/verify/tdx/crl-checks.js';
import { importSpkiP256 } from '../../../src/verify/tdx/ecdsa-p256.js';
import { parsePemChain } from '../../../src/verify/tdx/intel-chain.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import type { Violation } from '../../../src/verify/violations.js';
import { codes, loadTdx, v } from './support.js';

const ECDSA = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function freshKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

/** The same TBSCertList signed by another key: issuer name and contents unchanged. */
async function resign(der: Uint8Array): Promise<Uint8Array> {
  const crl = parseCrl(der);
  const keys = await freshKeys();
  const sig = new Uint8Array(await crypto.subtle.sign(ECDSA, keys.privateKey, toArrayBuffer(crl.tbs)));
  const bits = tlv(0x03, concatBytes(Uint8Array.of(0), ecdsaP1363ToDer(sig)));
  return tlv(0x30, concatBytes(crl.tbs, crl.signatureAlgorithm, bits));
}

async function crlListing(
  issuer: Uint8Array,
  serialHex: string,
  keys: CryptoKeyPair,
  nextUpdate: Date,
): Promise<Uint8Array> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: new x509.Name(toArrayBuffer(issuer)),
    thisUpdate: new Date('2025-01-01T00:00:00Z'),
    nextUpdate,
    entries: [
      {
        serialNumber: serialHex,
        revocationDate: new Date('2025-01-02T00:00:00Z'),
        reason: x509.X509CrlReason.keyCompromise,
      },
    ],
    signingKey: keys.privateKey,
    signingAlgorithm: ECDSA,
  });
  return new Uint8Array(crl.rawData);
}

describe.skipIf(!v.present)(`CRLs are authenticated before use ${v.skipReason}`, () => {
  const s = v.present ? loadTdx('phala-v4-uptodate') : null;
  const old = v.present ? loadTdx('google-spr-e4-v4') : null;
  let pckSerial = '';
  let pckCaSubject: Uint8Array = new Uint8Array(0);

  beforeAll(async () => {
    if (!s) return;
    const chain = (await parsePemChain(parseQuote(s.quote).pckChainPem, 'pck', []))!;
    pckSerial = chain[0]!.serialNumber;
    pckCaSubject = chain[1]!.subject;
  });

  async function verifyWith(change: Partial<TdxCollateral>): Promise<Violation[]> {
    const r = await verifyTdxEvidence({
      quote: s!.quote,
      collateral: { ...s!.collateral, ...change },
      now: s!.at,
    });
    expect(r.claims).toBeNull();
    return r.violations;
  }

  it('the real CRLs parse: issuer, window, revoked serials', () => {
    const root = parseCrl(s!.collateral.rootCaCrl!);
    const pck = parseCrl(s!.collateral.pckCrl!);
    expect(root.issuerText).toContain('CN=Intel SGX Root CA');
    expect(pck.issuerText).toContain('CN=Intel SGX PCK Platform CA');
    expect(pck.revokedSerials.size).toBe(44);
    expect(pck.nextUpdate.toISOString()).toBe('2025-07-19T10:00:35.000Z');
    expect(pck.revokedSerials.has(pckSerial)).toBe(false);
  });

  for (const key of ['rootCaCrl', 'pckCrl'] as const) {
    it(`${key}: empty, garbage, truncated, missing → crl_invalid`, async () => {
      const real = s!.collateral[key]!;
      for (const bad of [
        new Uint8Array(0),
        Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01),
        real.slice(0, real.length - 1),
        null,
      ]) {
        expect(codes(await verifyWith({ [key]: bad }))).toContain('crl_invalid');
      }
      const garbage = real.slice();
      garbage.fill(0x41, 40, 60);
      expect(codes(await verifyWith({ [key]: garbage }))).toContain('crl_invalid');
    });

    it(`${key}: re-signed by another key → crl_invalid`, async () => {
      expect(codes(await verifyWith({ [key]: await resign(s!.collateral[key]!) }))).toEqual(['crl_invalid']);
    });

    it(`${key}: Intel's genuine CRL of 2023, out of its window → crl_expired`, async () => {
      expect(codes(await verifyWith({ [key]: old!.collateral[key]! }))).toEqual(['crl_expired']);
    });
  }

  it('a CRL of another issuer in place of the PCK CRL → crl_invalid', async () => {
    expect(codes(await verifyWith({ pckCrl: s!.collateral.rootCaCrl }))).toContain('crl_invalid');
  });

  it("a re-signed CRL naming Intel's PCK CA and listing the PCK's serial is refused as a CRL", async () => {
    const forged = await crlListing(
      pckCaSubject,
      pckSerial,
      await freshKeys(),
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(parseCrl(forged).revokedSerials.has(pckSerial)).toBe(true);
    expect(codes(await verifyWith({ pckCrl: forged }))).toEqual(['crl_invalid']);
  });

  it("an authenticated CRL listing the PCK's serial → cert_revoked (test CA)", async () => {
    const keys = await freshKeys();
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Sealgate Test CRL Issuer',
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
      keys,
      signingAlgorithm: ECDSA,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    const caCert = await parseX509Certificate(new Uint8Array(ca.rawData));
    const issuer = {
      cert: caCert,
      key: (await importSpkiP256(caCert.spki))!,
      signatures: webCryptoSignatures,
    };
    const crlDer = await crlListing(caCert.subject, pckSerial, keys, new Date('2026-01-01T00:00:00Z'));
    const pckLeaf = (await parsePemChain(parseQuote(s!.quote).pckChainPem, 'pck', []))![0]!;
    const out: Violation[] = [];
    const crl = await authenticateCrl(crlDer, issuer, new Date('2025-06-20T00:00:00Z'), 'pckCrl', out);
    expect(out).toEqual([]);
    checkNotRevoked(crl!, [{ ...issuer, cert: pckLeaf }], 'pckCrl', out);
    expect(codes(out)).toEqual(['cert_revoked']);
    const late: Violation[] = [];
    expect(
      await authenticateCrl(crlDer, issuer, new Date('2026-02-01T00:00:00Z'), 'pckCrl', late),
    ).toBeNull();
    expect(codes(late)).toEqual(['crl_expired']);
    const other = await crlListing(
      caCert.subject,
      pckSerial,
      await freshKeys(),
      new Date('2026-01-01T00:00:00Z'),
    );
    const forged: Violation[] = [];
    expect(
      await authenticateCrl(other, issuer, new Date('2025-06-20T00:00:00Z'), 'pckCrl', forged),
    ).toBeNull();
    expect(codes(forged)).toEqual(['crl_invalid']);
  });

  it('src/der/crl.ts refuses malformed shapes', () => {
    const real = s!.collateral.pckCrl!;
    const bad = (b: Uint8Array): string => {
      try {
        parseCrl(b);
        return 'parsed';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad(concatBytes(real, Uint8Array.of(0)))).toMatch(/trailing/);
    expect(bad(Uint8Array.of(0x30, 0x80, 0, 0))).toMatch(/^CRL: /);
    expect(bad(new Uint8Array(0))).toMatch(/^CRL: /);
    // The outer signatureAlgorithm differs from the TBSCertList's (ecdsa-with-SHA384 instead).
    const crl = parseCrl(real);
    const alg384 = crl.signatureAlgorithm.slice();
    alg384[alg384.length - 1] = 0x03;
    const bits = tlv(0x03, concatBytes(Uint8Array.of(0), crl.signature));
    expect(bad(tlv(0x30, concatBytes(crl.tbs, alg384, bits)))).toMatch(/differs/);
  });
});
