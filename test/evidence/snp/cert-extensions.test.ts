/**
 * AMD VCEK/VLEK extensions (pub. 57230 Table 8) decoded strictly, certificate kind from the subject
 * CN, and DER/PEM certificate decoding. Certificates are generated here with @peculiar/x509 (no
 * vectors needed); the real ones are in real-certificates.test.ts.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toArrayBuffer, toBase64, utf8 } from '../../../src/bytes.js';
import { decodeCertificate, decodeCertificates } from '../../../src/der/pem.js';
import { SealgateError } from '../../../src/errors.js';
import {
  decodeAmdExtensions,
  encodeAmdExtensions,
  AMD_EXTENSION_OIDS as OID,
  parseAmdCertExtensions,
  type RawExtension,
} from '../../../src/evidence/snp/cert-extensions.js';
import { certificateKind } from '../../../src/evidence/snp/certificate.js';
import type { AmdCertExtensions } from '../../../src/evidence/snp/types.js';
import { pattern } from './fixtures.js';

const MILAN_VCEK: AmdCertExtensions = {
  structVersion: 0,
  productName: 'Milan-B0',
  tcb: { bootloader: 3, tee: 0, snp: 8, microcode: 217 },
  hwId: pattern(64, 1),
  cspId: null,
};
const TURIN_VCEK: AmdCertExtensions = {
  structVersion: 1,
  productName: 'Turin',
  tcb: { fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 128 },
  hwId: pattern(8, 2),
  cspId: null,
};
const GENOA_VLEK: AmdCertExtensions = {
  structVersion: 0,
  productName: 'Genoa',
  tcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
  hwId: null,
  cspId: 'CN=example-csp',
};

function expectCertError(f: () => unknown, message: string, code = 'malformed_certificate'): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SealgateError);
  expect((caught as SealgateError).code).toBe(code);
  expect((caught as SealgateError).message).toBe(message);
}

/** `base` with the extension `oid` replaced by `value` (hex), or removed when value is null. */
function withExt(base: AmdCertExtensions, oid: string, value: string | null): RawExtension[] {
  const list = encodeAmdExtensions(base).filter((e) => e.oid !== oid);
  if (value !== null) list.push({ oid, value: fromHex(value) });
  return list;
}

describe('encodeAmdExtensions ⇄ decodeAmdExtensions', () => {
  it('round-trips VCEKs and VLEKs of each product', () => {
    expect(decodeAmdExtensions(encodeAmdExtensions(MILAN_VCEK), 'vcek')).toEqual(MILAN_VCEK);
    expect(decodeAmdExtensions(encodeAmdExtensions(TURIN_VCEK), 'vcek')).toEqual(TURIN_VCEK);
    expect(decodeAmdExtensions(encodeAmdExtensions(GENOA_VLEK), 'vlek')).toEqual(GENOA_VLEK);
  });

  it('writes the reserved SPLs AMD writes: spl4–7 on Milan/Genoa, spl5–7 and fmcSPL on Turin', () => {
    const oids = (e: AmdCertExtensions) => encodeAmdExtensions(e).map((x) => x.oid);
    expect(oids(MILAN_VCEK)).toContain(OID.spl4);
    expect(oids(MILAN_VCEK)).not.toContain(OID.fmcSPL);
    expect(oids(TURIN_VCEK)).not.toContain(OID.spl4);
    expect(oids(TURIN_VCEK)).toEqual(expect.arrayContaining([OID.fmcSPL, OID.spl5, OID.spl6, OID.spl7]));
    const ucode = encodeAmdExtensions(MILAN_VCEK).find((x) => x.oid === OID.ucodeSPL)!;
    expect(ucode.value).toEqual(fromHex('020200d9')); // 217 needs a leading zero byte
  });

  it('refuses what it could not decode', () => {
    const bad = (e: AmdCertExtensions, message: string) =>
      expectCertError(() => encodeAmdExtensions(e), message, 'invalid_argument');
    bad({ ...MILAN_VCEK, productName: 'Venice' }, 'AMD extensions: unknown productName "Venice"');
    bad({ ...MILAN_VCEK, cspId: 'x' }, 'AMD extensions: exactly one of hwId (VCEK) and cspId (VLEK)');
    bad({ ...MILAN_VCEK, hwId: null }, 'AMD extensions: exactly one of hwId (VCEK) and cspId (VLEK)');
    bad({ ...MILAN_VCEK, tcb: { ...MILAN_VCEK.tcb, fmc: 0 } }, 'AMD extensions: Milan has no fmcSPL');
    bad({ ...TURIN_VCEK, tcb: { ...MILAN_VCEK.tcb } }, 'AMD extensions: fmcSPL is required');
    bad(
      { ...MILAN_VCEK, tcb: { ...MILAN_VCEK.tcb, snp: 256 } },
      'AMD extensions: snpSPL: must be an integer in [0, 255]',
    );
    bad(
      { ...MILAN_VCEK, hwId: new Uint8Array(8) },
      'AMD extensions: certificate: hwID is 8 bytes, expected 64 for Milan',
    );
  });
});

describe('decodeAmdExtensions: strict DER', () => {
  const bl = `certificate: blSPL (${OID.blSPL})`;
  const cases: [string, string][] = [
    ['', `${bl}: truncated DER`],
    ['02', `${bl}: truncated DER`],
    ['030102', `${bl}: expected a DER INTEGER (tag 0x02), got tag 0x03`],
    ['1f0101', `${bl}: high-tag-number DER tags are not supported`],
    ['0200', `${bl}: empty INTEGER`],
    ['020205', `${bl}: truncated DER`],
    ['02810105', `${bl}: non-minimal DER length`],
    ['0280050000', `${bl}: indefinite DER length`],
    ['0285000000000105', `${bl}: DER length too large`],
    ['02020005', `${bl}: non-minimal INTEGER`],
    ['0202ff80', `${bl}: non-minimal INTEGER`],
    ['020180', `${bl}: negative INTEGER`],
    ['02028000', `${bl}: negative INTEGER`],
    ['02020100', `${bl}: INTEGER exceeds 255`],
    ['0203010000', `${bl}: INTEGER exceeds 255`],
    ['02010500', `${bl}: trailing bytes after the DER value`],
  ];
  for (const [hex, message] of cases) {
    it(`blSPL ${hex || '(empty)'} → ${message.slice(bl.length + 2)}`, () => {
      expectCertError(() => decodeAmdExtensions(withExt(MILAN_VCEK, OID.blSPL, hex), 'vcek'), message);
    });
  }

  it('accepts the minimal encodings of 0, 127, 128 and 255', () => {
    for (const [hex, n] of [
      ['020100', 0],
      ['02017f', 127],
      ['02020080', 128],
      ['020200ff', 255],
    ] as const) {
      expect(decodeAmdExtensions(withExt(MILAN_VCEK, OID.teeSPL, hex), 'vcek').tcb.tee).toBe(n);
    }
  });

  it('productName and cspID must be IA5Strings', () => {
    const pn = `certificate: productName (${OID.productName})`;
    expectCertError(
      () => decodeAmdExtensions(withExt(MILAN_VCEK, OID.productName, '0c054d696c616e'), 'vcek'),
      `${pn}: expected a DER IA5String (tag 0x16), got tag 0x0c`,
    );
    expectCertError(
      () => decodeAmdExtensions(withExt(MILAN_VCEK, OID.productName, '16024dff'), 'vcek'),
      `${pn}: IA5String has a non-ASCII byte`,
    );
    expectCertError(
      () => decodeAmdExtensions(withExt(GENOA_VLEK, OID.cspID, '0401aa'), 'vlek'),
      `certificate: cspID (${OID.cspID}): expected a DER IA5String (tag 0x16), got tag 0x04`,
    );
    expectCertError(
      () => decodeAmdExtensions(withExt(MILAN_VCEK, OID.productName, '160656656e696365'), 'vcek'),
      'certificate: productName "Venice" is not a known product',
    );
  });
});

describe('decodeAmdExtensions: required, forbidden and reserved extensions', () => {
  it('each required extension missing', () => {
    for (const name of ['structVersion', 'productName', 'blSPL', 'teeSPL', 'snpSPL', 'ucodeSPL'] as const) {
      expectCertError(
        () => decodeAmdExtensions(withExt(MILAN_VCEK, OID[name], null), 'vcek'),
        `certificate: missing extension ${name} (${OID[name]})`,
      );
    }
    expectCertError(
      () => decodeAmdExtensions(withExt(TURIN_VCEK, OID.fmcSPL, null), 'vcek'),
      `certificate: missing extension fmcSPL (${OID.fmcSPL})`,
    );
    expectCertError(
      () => decodeAmdExtensions(withExt(MILAN_VCEK, OID.hwID, null), 'vcek'),
      'certificate: missing extension hwID (1.3.6.1.4.1.3704.1.4) on a VCEK',
    );
    expectCertError(
      () => decodeAmdExtensions(withExt(GENOA_VLEK, OID.cspID, null), 'vlek'),
      'certificate: missing extension cspID (1.3.6.1.4.1.3704.1.5) on a VLEK',
    );
  });

  it('fmcSPL only on Turin; reserved SPLs must be zero', () => {
    expectCertError(
      () => decodeAmdExtensions(withExt(MILAN_VCEK, OID.fmcSPL, '020100'), 'vcek'),
      'certificate: fmcSPL on a Milan certificate',
    );
    for (const name of ['spl4', 'spl5', 'spl6', 'spl7'] as const) {
      expectCertError(
        () => decodeAmdExtensions(withExt(MILAN_VCEK, OID[name], '020101'), 'vcek'),
        `certificate: reserved ${name} is not zero`,
      );
    }
  });

  it('hwID is raw bytes of the product length, only on a VCEK; cspID only on a VLEK', () => {
    expectCertError(
      () => decodeAmdExtensions(withExt(MILAN_VCEK, OID.hwID, '00'.repeat(63)), 'vcek'),
      'certificate: hwID is 63 bytes, expected 64 for Milan',
    );
    // An OCTET STRING wrapper is not what AMD writes: 66 bytes, rejected.
    expectCertError(
      () => decodeAmdExtensions(withExt(MILAN_VCEK, OID.hwID, `0440${'00'.repeat(64)}`), 'vcek'),
      'certificate: hwID is 66 bytes, expected 64 for Milan',
    );
    expectCertError(
      () => decodeAmdExtensions(withExt(TURIN_VCEK, OID.hwID, '00'.repeat(64)), 'vcek'),
      'certificate: hwID is 64 bytes, expected 8 for Turin',
    );
    expectCertError(
      () => decodeAmdExtensions(withExt(MILAN_VCEK, OID.cspID, '160178'), 'vcek'),
      'certificate: cspID on a VCEK',
    );
    expectCertError(
      () => decodeAmdExtensions(withExt(GENOA_VLEK, OID.hwID, '00'.repeat(64)), 'vlek'),
      'certificate: hwID on a VLEK',
    );
  });

  it('rejects duplicates, ignores extensions outside Table 8', () => {
    const list = encodeAmdExtensions(MILAN_VCEK);
    expectCertError(
      () => decodeAmdExtensions([...list, { oid: OID.blSPL, value: fromHex('020103') }], 'vcek'),
      `certificate: duplicate extension ${OID.blSPL}`,
    );
    const extra = [
      ...list,
      { oid: '1.3.6.1.4.1.3704.1.3.10', value: fromHex('ffff') },
      { oid: '2.5.29.19', value: fromHex('3000') },
    ];
    expect(decodeAmdExtensions(extra, 'vcek')).toEqual(MILAN_VCEK);
  });
});

describe('certificates generated with @peculiar/x509', () => {
  let keys: CryptoKeyPair;
  const make = async (name: string, exts: RawExtension[]): Promise<Uint8Array> => {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name,
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2032-01-01T00:00:00Z'),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
      extensions: exts.map((e) => new x509.Extension(e.oid, false, toArrayBuffer(e.value))),
    });
    return new Uint8Array(cert.rawData);
  };
  const pem = (der: Uint8Array, eol = '\n') =>
    `-----BEGIN CERTIFICATE-----${eol}${(toBase64(der).match(/.{1,64}/g) ?? []).join(eol)}${eol}-----END CERTIFICATE-----${eol}`;

  beforeAll(async () => {
    x509.cryptoProvider.set(crypto);
    keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
  });

  it('parseAmdCertExtensions and certificateKind on a VCEK and a VLEK', async () => {
    const vcek = await make('C=US, O=Advanced Micro Devices, CN=SEV-VCEK', encodeAmdExtensions(TURIN_VCEK));
    expect(certificateKind(vcek)).toBe('vcek');
    expect(parseAmdCertExtensions(vcek)).toEqual(TURIN_VCEK);
    const vlek = await make('CN=SEV-VLEK, OU=Engineering', encodeAmdExtensions(GENOA_VLEK));
    expect(certificateKind(vlek)).toBe('vlek');
    expect(parseAmdCertExtensions(vlek)).toEqual(GENOA_VLEK);
  });

  it('the kind comes from the CN: others are rejected, and decide which extensions are required', async () => {
    const ask = await make('CN=SEV-Milan', encodeAmdExtensions(MILAN_VCEK));
    expectCertError(
      () => certificateKind(ask),
      'certificate: subject CN "SEV-Milan" is neither SEV-VCEK nor SEV-VLEK',
    );
    expectCertError(
      () => parseAmdCertExtensions(ask),
      'certificate: subject CN "SEV-Milan" is neither SEV-VCEK nor SEV-VLEK',
    );
    const noCn = await make('O=AMD', encodeAmdExtensions(MILAN_VCEK));
    expectCertError(() => certificateKind(noCn), 'certificate: expected one subject CN, got 0');
    // VCEK extensions under a VLEK name.
    const mislabeled = await make('CN=SEV-VLEK', encodeAmdExtensions(MILAN_VCEK));
    expectCertError(
      () => parseAmdCertExtensions(mislabeled),
      'certificate: missing extension cspID (1.3.6.1.4.1.3704.1.5) on a VLEK',
    );
  });

  it('bad DER inside an extension of a real certificate structure', async () => {
    const der = await make('CN=SEV-VCEK', withExt(MILAN_VCEK, OID.snpSPL, '020180'));
    expectCertError(
      () => parseAmdCertExtensions(der),
      `certificate: snpSPL (${OID.snpSPL}): negative INTEGER`,
    );
  });

  it('decodeCertificate / decodeCertificates accept DER and PEM (LF or CRLF), in order', async () => {
    const a = await make('CN=SEV-VCEK', encodeAmdExtensions(MILAN_VCEK));
    const b = await make('CN=SEV-VLEK', encodeAmdExtensions(GENOA_VLEK));
    const copy = decodeCertificate(a);
    expect(copy).toEqual(a);
    expect(copy.buffer).not.toBe(a.buffer);
    expect(decodeCertificate(utf8.encode(pem(a)))).toEqual(a);
    expect(decodeCertificate(utf8.encode(`\n${pem(a, '\r\n')}\n`))).toEqual(a);
    expect(decodeCertificates(utf8.encode(pem(a) + pem(b)))).toEqual([a, b]);
    expectCertError(
      () => decodeCertificate(utf8.encode(pem(a) + pem(b))),
      'certificate: expected one certificate, got 2',
    );
  });

  it('decodeCertificate rejects what is neither', async () => {
    const der = await make('CN=SEV-VCEK', encodeAmdExtensions(MILAN_VCEK));
    const text = pem(der);
    const bad = (bytes: Uint8Array, message: string) =>
      expectCertError(() => decodeCertificate(bytes), message);
    bad(new Uint8Array(0), 'certificate: empty input');
    bad(Uint8Array.from([...der, 0]), 'certificate: 1 trailing bytes after the DER SEQUENCE');
    bad(der.subarray(0, der.length - 1), 'certificate: not a DER SEQUENCE');
    bad(utf8.encode('hello'), 'certificate: expected DER or a PEM CERTIFICATE block');
    bad(Uint8Array.of(0xff, 0xfe, 0x00), 'certificate: expected DER or a PEM CERTIFICATE block');
    bad(utf8.encode(`junk\n${text}`), 'certificate: unexpected text outside PEM blocks');
    bad(utf8.encode(`${text}junk`), 'certificate: unexpected text outside PEM blocks');
    bad(
      utf8.encode(text.replace('-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\n*')),
      'certificate: PEM body is not valid base64',
    );
    bad(
      utf8.encode('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'),
      'certificate: PEM body is not valid base64',
    );
    bad(utf8.encode(pem(fromHex('0201')).replace(/\n$/, '')), 'certificate: not a DER SEQUENCE');
    expectCertError(
      () => certificateKind(fromHex('3003020100')),
      'certificate: expected 3 elements in Certificate, got 1',
    );
  });
});
