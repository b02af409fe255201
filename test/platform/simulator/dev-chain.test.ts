/**
 * The development chain has AMD's shapes: signature AlgorithmIdentifier bytes, key types, CA
 * extensions and their order, the VCEK/VLEK extensions of pub. 57230 Table 8 (decoded by the
 * parser), AMD's CN shapes with SIMULATED in O/OU, and signatures that verify link by link.
 * The byte-level comparisons run against AMD's real certificates when the vectors are present and
 * against literals taken from them otherwise.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, sha256, toHex } from '../../../src/bytes.js';
import { decodeCertificates } from '../../../src/der/pem.js';
import { isSealgateError } from '../../../src/errors.js';
import { parseAmdCertExtensions } from '../../../src/evidence/snp/cert-extensions.js';
import { pssAlgorithmIdentifier } from '../../../src/platform/simulator/amd-shapes.js';
import { createDevChain, type DevChain } from '../../../src/platform/simulator/dev-chain.js';
import { vectors } from '../../support/vectors.js';
import { certPieces, children } from './der-walk.js';

x509.cryptoProvider.set(crypto);
const v = vectors();

const NOW = new Date('2026-11-20T10:00:00.750Z');
const NOT_BEFORE = '2026-11-20T10:00:00.000Z';
const MILAN_TCB = { bootloader: 3, tee: 0, snp: 8, microcode: 115 };
const TURIN_TCB = { fmc: 1, bootloader: 1, tee: 0, snp: 2, microcode: 71 };
const GENOA_TCB = { bootloader: 10, tee: 0, snp: 23, microcode: 84 };
const HWID = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 5) & 0xff);

// AMD's RSASSA-PSS AlgorithmIdentifiers, copied from ARK-Milan (bytes 18..89) and the Turin VCEK
// of turin-v5-oak (bytes 16..82): sha384 with NULL, mgf1(sha384 with NULL), salt 48, [trailer 1].
const AMD_PSS_EXPLICIT = fromHex(
  '304606092a864886f70d01010a3039a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130a303020101',
);
const AMD_PSS_OMITTED = fromHex(
  '304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130',
);

// The real roots' SHA-256 (SOURCES.md): a simulated ARK must never equal one of them.
const AMD_ARK_SHA256 = [
  '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd',
  '4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1',
  '1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a',
];

let milan: DevChain; // VCEK, given hwID, default validity, leaf trailer omitted
let turin: DevChain; // VCEK, random hwID, validityDays 30
let genoaVlek: DevChain; // VLEK, leaf trailer explicit

// RSA-4096 key generation takes seconds (more on a loaded machine); workerd's default hook
// timeout is 10 s, so the chains get their own budget.
const CHAIN_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  [milan, turin, genoaVlek] = await Promise.all([
    createDevChain({ product: 'Milan', now: NOW, tcb: MILAN_TCB, hwId: HWID }),
    createDevChain({ product: 'Turin', now: NOW, tcb: TURIN_TCB, validityDays: 30 }),
    createDevChain({
      product: 'Genoa',
      now: NOW,
      tcb: GENOA_TCB,
      signingKey: 'vlek',
      cspId: 'CN=csp.example.invalid',
      leafPssTrailer: 'explicit',
    }),
  ]);
}, CHAIN_TIMEOUT_MS);

const parse = (der: Uint8Array) => new x509.X509Certificate(der.slice());
const chains = () =>
  [
    ['Milan VCEK', milan],
    ['Turin VCEK', turin],
    ['Genoa VLEK', genoaVlek],
  ] as const;

describe('signature AlgorithmIdentifier', () => {
  it('pssAlgorithmIdentifier is byte-identical to the literals taken from AMD certificates', () => {
    expect(toHex(pssAlgorithmIdentifier('explicit'))).toBe(toHex(AMD_PSS_EXPLICIT));
    expect(toHex(pssAlgorithmIdentifier('omitted'))).toBe(toHex(AMD_PSS_OMITTED));
  });

  it('ARK and ASK carry the explicit-trailer form in both places; leaves the form asked for', () => {
    for (const [, c] of chains()) {
      for (const der of [c.certificates.ark, c.certificates.ask]) {
        const p = certPieces(der);
        expect(toHex(p.signatureAlgorithm)).toBe(toHex(AMD_PSS_EXPLICIT));
        expect(toHex(p.tbsSignatureAlgorithm)).toBe(toHex(AMD_PSS_EXPLICIT));
      }
    }
    for (const c of [milan, turin]) {
      expect(toHex(certPieces(c.certificates.vcek).signatureAlgorithm)).toBe(toHex(AMD_PSS_OMITTED));
      expect(toHex(certPieces(c.certificates.vcek).tbsSignatureAlgorithm)).toBe(toHex(AMD_PSS_OMITTED));
    }
    expect(toHex(certPieces(genoaVlek.certificates.vcek).signatureAlgorithm)).toBe(toHex(AMD_PSS_EXPLICIT));
  });

  describe.skipIf(!v.present)(`against AMD's real certificates ${v.skipReason}`, () => {
    it('ARK/ASK of every product and the VCEK/VLEKs use exactly our two encodings', () => {
      const [ask, ark] = decodeCertificates(v.bytes('amd-roots/ask_ark_milan.pem')) as [
        Uint8Array,
        Uint8Array,
      ];
      for (const der of [ask, ark])
        expect(toHex(certPieces(der).signatureAlgorithm)).toBe(toHex(AMD_PSS_EXPLICIT));
      for (const f of ['ask_ark_genoa.pem', 'ask_ark_turin_vcek.pem', 'ask_ark_turin_vlek.pem']) {
        for (const der of decodeCertificates(v.bytes(`amd-roots/${f}`))) {
          expect(toHex(certPieces(der).signatureAlgorithm)).toBe(toHex(AMD_PSS_EXPLICIT));
        }
      }
      expect(toHex(certPieces(v.bytes('snp/milan-v2-virtee/vcek.der')).signatureAlgorithm)).toBe(
        toHex(AMD_PSS_EXPLICIT),
      );
      expect(toHex(certPieces(v.bytes('snp/turin-v5-oak/vcek.der')).signatureAlgorithm)).toBe(
        toHex(AMD_PSS_OMITTED),
      );
      expect(toHex(certPieces(v.bytes('snp/milan-v3-vlek-aws-trustee/vlek.der')).signatureAlgorithm)).toBe(
        toHex(AMD_PSS_OMITTED),
      );
    });

    it("CA extensions: same OIDs, order, criticality, KeyUsage and BasicConstraints bytes as AMD's", () => {
      const [realAsk, realArk] = decodeCertificates(v.bytes('amd-roots/ask_ark_milan.pem')) as [
        Uint8Array,
        Uint8Array,
      ];
      for (const [ours, real] of [
        [milan.certificates.ark, realArk],
        [milan.certificates.ask, realAsk],
      ] as const) {
        const o = certPieces(ours).extensions;
        const r = certPieces(real).extensions;
        expect(o.map((e) => [e.oid, e.critical])).toEqual(r.map((e) => [e.oid, e.critical]));
        for (const oid of ['2.5.29.15', '2.5.29.19']) {
          expect(toHex(o.find((e) => e.oid === oid)!.value)).toBe(toHex(r.find((e) => e.oid === oid)!.value));
        }
      }
    });

    it("leaf extensions: the OIDs in AMD's order for Milan VCEK, Turin VCEK and a VLEK", () => {
      const oids = (der: Uint8Array) => certPieces(der).extensions.map((e) => e.oid);
      expect(oids(milan.certificates.vcek)).toEqual(oids(v.bytes('snp/milan-v2-virtee/vcek.der')));
      expect(oids(turin.certificates.vcek)).toEqual(oids(v.bytes('snp/turin-v5-oak/vcek.der')));
      expect(oids(genoaVlek.certificates.vcek)).toEqual(
        oids(v.bytes('snp/milan-v3-vlek-aws-trustee/vlek.der')),
      );
    });

    it('subject DN: AMD attribute types, order and string types (UTF8String, C PrintableString)', () => {
      const [realAsk, realArk] = decodeCertificates(v.bytes('amd-roots/ask_ark_milan.pem')) as [
        Uint8Array,
        Uint8Array,
      ];
      // Per RDN: the attribute type OID bytes and the value's tag; only the texts may differ.
      const shape = (der: Uint8Array) =>
        children(certPieces(der).subject).map((set) => {
          const [oid, value] = children(children(set)[0]!) as [Uint8Array, Uint8Array];
          return `${toHex(oid)}/${value[0]!.toString(16)}`;
        });
      expect(shape(milan.certificates.ark)).toEqual(shape(realArk));
      expect(shape(milan.certificates.ask)).toEqual(shape(realAsk));
      expect(shape(milan.certificates.vcek)).toEqual(shape(v.bytes('snp/milan-v2-virtee/vcek.der')));
    });
  });
});

describe('names', () => {
  it("keep AMD's CN shapes and say SIMULATED in O and OU", () => {
    const cn = (der: Uint8Array) => parse(der).subjectName.getField('CN');
    expect([milan, turin, genoaVlek].map((c) => cn(c.certificates.ark))).toEqual([
      ['ARK-Milan'],
      ['ARK-Turin'],
      ['ARK-Genoa'],
    ]);
    expect([milan, turin, genoaVlek].map((c) => cn(c.certificates.ask))).toEqual([
      ['SEV-Milan'],
      ['SEV-Turin'],
      ['SEV-VLEK-Genoa'],
    ]);
    expect([milan, turin, genoaVlek].map((c) => cn(c.certificates.vcek))).toEqual([
      ['SEV-VCEK'],
      ['SEV-VCEK'],
      ['SEV-VLEK'],
    ]);
    for (const [, c] of chains()) {
      for (const der of Object.values(c.certificates)) {
        const cert = parse(der);
        expect(cert.subjectName.getField('O')).toEqual(['Sealgate SIMULATED']);
        expect(cert.subjectName.getField('OU')[0]).toContain('SIMULATED');
        expect(cert.subject).toBe(
          `OU=SIMULATED (no AMD hardware), C=XX, L=Simulated, ST=Simulated, O=Sealgate SIMULATED, CN=${cert.subjectName.getField('CN')[0]}`,
        );
      }
      expect(parse(c.certificates.ark).issuer).toBe(parse(c.certificates.ark).subject);
      expect(parse(c.certificates.ask).issuer).toBe(parse(c.certificates.ark).subject);
      expect(parse(c.certificates.vcek).issuer).toBe(parse(c.certificates.ask).subject);
    }
  });

  it("serial numbers follow AMD's (ARK gen<<16, ASK, ASVK, leaf 0)", () => {
    expect(parse(milan.certificates.ark).serialNumber).toBe('010000');
    expect(parse(milan.certificates.ask).serialNumber).toBe('010001');
    expect(parse(turin.certificates.ask).serialNumber).toBe('030001');
    expect(parse(genoaVlek.certificates.ask).serialNumber).toBe('020101');
    expect(parse(milan.certificates.vcek).serialNumber).toBe('00');
  });
});

describe('keys and signatures', () => {
  it('ARK and ASK hold RSA-4096 (e=65537) keys, the leaf a P-384 key', () => {
    for (const [, c] of chains()) {
      for (const der of [c.certificates.ark, c.certificates.ask]) {
        const alg = parse(der).publicKey.algorithm as unknown as {
          modulusLength: number;
          publicExponent: Uint8Array;
        };
        expect(alg.modulusLength).toBe(4096);
        expect(toHex(alg.publicExponent)).toBe('010001');
      }
      expect(
        (parse(c.certificates.vcek).publicKey.algorithm as unknown as { namedCurve: string }).namedCurve,
      ).toBe('P-384');
      expect(c.vcekPrivateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-384' });
      expect(c.vcekPrivateKey.type).toBe('private');
    }
  });

  it('the ARK is self-signed and every link verifies with @peculiar/x509 at `now`', async () => {
    for (const [, c] of chains()) {
      const ark = parse(c.certificates.ark);
      const ask = parse(c.certificates.ask);
      const leaf = parse(c.certificates.vcek);
      expect(await ark.verify({ publicKey: ark.publicKey, date: NOW })).toBe(true);
      expect(await ask.verify({ publicKey: ark.publicKey, date: NOW })).toBe(true);
      expect(await leaf.verify({ publicKey: ask.publicKey, date: NOW })).toBe(true);
      // And not under the wrong key: each link is really bound to its issuer.
      expect(await leaf.verify({ publicKey: ark.publicKey, date: NOW, signatureOnly: true })).toBe(false);
      expect(await ask.verify({ publicKey: ask.publicKey, date: NOW, signatureOnly: true })).toBe(false);
    }
  });

  it("chains are independent: one chain's ASK does not verify under another's ARK", async () => {
    const ask = parse(turin.certificates.ask);
    expect(
      await ask.verify({ publicKey: parse(milan.certificates.ark).publicKey, signatureOnly: true }),
    ).toBe(false);
    expect(milan.arkSha256).not.toBe(turin.arkSha256);
  });

  it('SKI/AKI link ASK to ARK (RFC 5280 §4.2.1.1–2)', () => {
    for (const [, c] of chains()) {
      const arkSki = parse(c.certificates.ark).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
      const askAki = parse(c.certificates.ask).getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId;
      expect(askAki).toBe(arkSki);
      expect(arkSki).toHaveLength(40);
    }
  });
});

describe('AMD extensions (pub. 57230 Table 8) decode with the parser', () => {
  it('Milan VCEK', () => {
    expect(parseAmdCertExtensions(milan.certificates.vcek)).toEqual({
      structVersion: 0,
      productName: 'Milan-B0',
      tcb: MILAN_TCB,
      hwId: HWID,
      cspId: null,
    });
    expect(milan.hwId).toEqual(HWID);
  });

  it('Turin VCEK: structVersion 1, fmcSPL, 8-byte hwID drawn at call time', () => {
    const ext = parseAmdCertExtensions(turin.certificates.vcek);
    expect(ext).toEqual({
      structVersion: 1,
      productName: 'Turin',
      tcb: TURIN_TCB,
      hwId: turin.hwId,
      cspId: null,
    });
    expect(turin.hwId).toHaveLength(8);
    const oids = certPieces(turin.certificates.vcek).extensions.map((e) => e.oid);
    expect(oids).toContain('1.3.6.1.4.1.3704.1.3.9');
    expect(oids).not.toContain('1.3.6.1.4.1.3704.1.3.4');
  });

  it('Genoa VLEK: cspId, no hwID', () => {
    expect(parseAmdCertExtensions(genoaVlek.certificates.vcek)).toEqual({
      structVersion: 0,
      productName: 'Genoa',
      tcb: GENOA_TCB,
      hwId: null,
      cspId: 'CN=csp.example.invalid',
    });
    expect(genoaVlek.hwId).toBeNull();
  });

  it("leaf extension order is AMD's (literal, from the real certificates)", () => {
    const p = '1.3.6.1.4.1.3704.1';
    const oids = (c: DevChain) =>
      certPieces(c.certificates.vcek).extensions.map((e) => e.oid.slice(p.length + 1));
    expect(oids(milan)).toEqual(['1', '2', '3.1', '3.2', '3.4', '3.5', '3.6', '3.7', '3.3', '3.8', '4']);
    expect(oids(turin)).toEqual(['1', '2', '3.9', '3.1', '3.2', '3.3', '3.5', '3.6', '3.7', '3.8', '4']);
    expect(oids(genoaVlek)).toEqual(['1', '2', '3.1', '3.2', '3.4', '3.5', '3.6', '3.7', '3.3', '3.8', '5']);
  });

  it('CRL distribution points never resolve (.invalid)', () => {
    for (const [, c] of chains()) {
      const crl = parse(c.certificates.ask).getExtension(x509.CRLDistributionPointsExtension)!;
      const uri = crl.distributionPoints[0]!.distributionPoint!.fullName![0]!.uniformResourceIdentifier;
      expect(uri).toBe(`https://kdsintf.simulated.invalid/${c.signingKey}/v1/${c.product}/crl`);
    }
  });
});

describe('fingerprint, trust anchor, validity', () => {
  it('arkSha256 is the SHA-256 of the ARK DER and is no AMD root', async () => {
    for (const [, c] of chains()) {
      expect(c.arkSha256).toBe(toHex(await sha256(c.certificates.ark)));
      expect(c.trustAnchor).toEqual({ sha256: c.arkSha256, product: c.product, simulated: true });
      expect(AMD_ARK_SHA256).not.toContain(c.arkSha256);
      expect(c.simulated).toBe(true);
    }
  });

  it('notBefore is `now` to the second; VCEK 7 years, VLEK 1 year, validityDays; CAs 25 years', () => {
    const nb = (der: Uint8Array) => parse(der).notBefore.toISOString();
    const na = (der: Uint8Array) => parse(der).notAfter.toISOString();
    for (const [, c] of chains())
      for (const der of Object.values(c.certificates)) expect(nb(der)).toBe(NOT_BEFORE);
    expect(na(milan.certificates.vcek)).toBe('2033-11-20T10:00:00.000Z');
    expect(na(genoaVlek.certificates.vcek)).toBe('2027-11-20T10:00:00.000Z');
    expect(na(turin.certificates.vcek)).toBe('2026-12-20T10:00:00.000Z');
    // 2051 needs GeneralizedTime (RFC 5280 §4.1.2.5); x509 reading it back proves the encoding.
    expect(na(milan.certificates.ark)).toBe('2051-11-20T10:00:00.000Z');
    expect(na(turin.certificates.ask)).toBe('2051-11-20T10:00:00.000Z');
  });

  it('the leaf is invalid outside its validity (x509 verify with a date)', async () => {
    const leaf = parse(turin.certificates.vcek);
    const askKey = parse(turin.certificates.ask).publicKey;
    expect(await leaf.verify({ publicKey: askKey, date: new Date('2026-12-21T00:00:00Z') })).toBe(false);
    expect(await leaf.verify({ publicKey: askKey, date: new Date('2026-11-20T09:59:59Z') })).toBe(false);
  });
});

describe('createDevChain input checks (before any key is generated)', () => {
  const base = { product: 'Milan' as const, now: NOW, tcb: MILAN_TCB };
  const cases: [string, Parameters<typeof createDevChain>[0], string][] = [
    [
      'bad product',
      { ...base, product: 'Rome' as never },
      'product: expected Milan, Genoa or Turin, got Rome',
    ],
    ['bad date', { ...base, now: new Date(Number.NaN) }, 'now: expected a valid Date'],
    ['short hwId', { ...base, hwId: new Uint8Array(8) }, 'hwId: expected 64 bytes for Milan, got 8'],
    [
      'long Turin hwId',
      { ...base, product: 'Turin', tcb: TURIN_TCB, hwId: new Uint8Array(64) },
      'hwId: expected 8 bytes for Turin, got 64',
    ],
    ['hwId on a VLEK', { ...base, signingKey: 'vlek', hwId: HWID }, 'hwId: a VLEK carries no hwID'],
    ['cspId on a VCEK', { ...base, cspId: 'CN=x' }, 'cspId: only a VLEK carries a cspId'],
    [
      'non-ASCII cspId',
      { ...base, signingKey: 'vlek', cspId: 'CN=\u00e9' },
      'cspId: expected printable ASCII (an IA5String)',
    ],
    [
      'leafPssTrailer',
      { ...base, leafPssTrailer: 'absent' as never },
      'leafPssTrailer: expected "explicit" or "omitted", got absent',
    ],
    [
      'fmc on Milan',
      { ...base, tcb: { ...MILAN_TCB, fmc: 0 } },
      'tcb.fmc: only Turin has an FMC SPL, not Milan',
    ],
    [
      'no fmc on Turin',
      { ...base, product: 'Turin', tcb: MILAN_TCB },
      'tcb.fmc: Turin needs an integer 0..255, got undefined',
    ],
    [
      'SPL > 255',
      { ...base, tcb: { ...MILAN_TCB, snp: 256 } },
      'tcb.snp: expected an integer 0..255, got 256',
    ],
    ['validityDays 0', { ...base, validityDays: 0 }, 'validityDays: expected a positive integer, got 0'],
    ['signingKey', { ...base, signingKey: 'vek' as never }, 'signingKey: expected "vcek" or "vlek", got vek'],
  ];
  it.each(cases)('%s', async (_name, opts, message) => {
    const err = await createDevChain(opts).catch((e: unknown) => e);
    expect(isSealgateError(err, 'invalid_argument')).toBe(true);
    expect((err as Error).message).toBe(message);
  });
});
