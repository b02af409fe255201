/**
 * `parseCertificate` (src/verify/certificates.ts, fields from src/der/x509-fields.ts)
 * against @peculiar/x509 as the reference — on every certificate of the real vectors (AMD, Intel
 * PCK chains, also those inside TDX quotes, NVIDIA), on a simulator-issued AMD-shaped chain and on
 * attestation-service-issued worker certificates (128-bit OID arcs, which @peculiar cannot decode:
 * there the reference is the OID's DER bytes) — then its boundaries: truncation, byte changes,
 * non-minimal lengths, trailing bytes, string types, times, versions, extensions, huge OID arcs,
 * and fast-check properties. Runs in Node and workerd.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { concatBytes, toHex } from '../../src/bytes.js';
import { readTlv, type Tlv } from '../../src/der/der.js';
import { decodeCertificates } from '../../src/der/pem.js';
import { tlv as derTlv, oidContent as encodeOidContent } from '../../src/der/write.js';
import { decodeOid, readCertificateFields, readTime } from '../../src/der/x509-fields.js';
import { isSealgateError } from '../../src/errors.js';
import { createDevChain } from '../../src/platform/simulator/dev-chain.js';
import { encodeCommonNameDer } from '../../src/service-client/certificate-der.js';
import { ECDSA_SHA384_ALGORITHM } from '../../src/service-client/worker-certificate.js';
import { type ParsedCertificate, parseCertificate } from '../../src/verify/certificates.js';
import { vectors } from '../support/vectors.js';

const v = vectors();

/** The code of what `f` throws: null when it returns, the SealgateError code, or a marker. */
async function codeOf(f: () => unknown): Promise<string | null> {
  try {
    await f();
    return null;
  } catch (e) {
    return isSealgateError(e) ? e.code : `not a SealgateError: ${String(e)}`;
  }
}

/** Every certificate in the vectors: .pem/.der/.crt files, and PEM blocks inside binary files (TDX quotes). */
function realCertificates(): { name: string; der: Uint8Array }[] {
  const out: { name: string; der: Uint8Array }[] = [];
  for (const path of v.list('')) {
    if (/crl/i.test(path)) continue;
    let ders: Uint8Array[] = [];
    if (/\.(pem|der|crt)$/.test(path)) {
      ders = decodeCertificates(v.bytes(path));
    } else if (/\.bin$/.test(path)) {
      const text = Array.from(v.bytes(path), (b) => String.fromCharCode(b)).join('');
      for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g)) {
        ders.push(...decodeCertificates(Uint8Array.from(m[0], (c) => c.charCodeAt(0))));
      }
    }
    for (const [i, der] of ders.entries()) out.push({ name: `${path}#${i}`, der });
  }
  return out;
}

/** True when every arc is below 2^53, where @peculiar's OID decoding is exact. */
const smallArcs = (oid: string) => oid.split('.').every((a) => BigInt(a) < 2n ** 53n);

/** Every field of `parseCertificate`'s result, checked against @peculiar/x509 on the same DER. */
function expectSameAsPeculiar(got: ParsedCertificate, der: Uint8Array, name: string): void {
  const ref = new x509.X509Certificate(der.slice());
  const cns = ref.subjectName.getField('CN');
  expect(got.subjectCns, name).toEqual(cns);
  expect(got.subjectCn, name).toBe(cns.length === 1 ? cns[0] : null);
  expect(got.subjectText, name).toBe(ref.subject);
  expect(got.notBefore.getTime(), name).toBe(ref.notBefore.getTime());
  expect(got.notAfter.getTime(), name).toBe(ref.notAfter.getTime());
  expect(toHex(got.tbs), name).toBe(toHex(new Uint8Array((ref as unknown as { tbs: ArrayBuffer }).tbs)));
  expect(toHex(got.signature), name).toBe(toHex(new Uint8Array(ref.signature)));
  // The INTEGER contents as written; @peculiar drops the 0x00 sign byte before a high bit.
  expect(got.serialNumber.replace(/^00(?=[89a-f])/, ''), name).toBe(ref.serialNumber);
  expect(toHex(got.spki), name).toBe(toHex(new Uint8Array(ref.publicKey.rawData)));
  expect(toHex(got.subject), name).toBe(toHex(new Uint8Array(ref.subjectName.toArrayBuffer())));
  expect(toHex(got.issuer), name).toBe(toHex(new Uint8Array(ref.issuerName.toArrayBuffer())));
  // Extensions: values and criticality from @peculiar; OIDs from @peculiar where its arcs are
  // exact (< 2^53; beyond, it truncates), and always against the OID's DER bytes as found by
  // tags alone (extensionOidBytes), which catches a large arc read wrongly either way.
  expect(got.extensions.length, name).toBe(ref.extensions.length);
  ref.extensions.forEach((e, i) => {
    const mine = got.extensions[i]!;
    if (smallArcs(mine.oid)) expect(mine.oid, name).toBe(e.type);
    expect(toHex(mine.value), `${name} ${mine.oid}`).toBe(toHex(new Uint8Array(e.value)));
    expect(got.criticalExtensions.includes(mine.oid), `${name} ${mine.oid}`).toBe(e.critical);
  });
  const bc = ref.getExtension(x509.BasicConstraintsExtension);
  expect(got.isCa, name).toBe(bc ? bc.ca : false);
  const ku = ref.getExtension(x509.KeyUsagesExtension);
  expect(got.mayCertSign, name).toBe(ku ? (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0 : true);
  expect(
    got.extensions.map((e) => toHex(encodeOidContent(e.oid))),
    name,
  ).toEqual(extensionOidBytes(got.tbs));
}

/** Each extension's extnID contents as hex, found in a TBSCertificate by tags alone (der.ts TLVs). */
function extensionOidBytes(tbs: Uint8Array): string[] {
  const inside = (start: number, end: number) => {
    const out: Tlv[] = [];
    for (let pos = start; pos < end; pos = out[out.length - 1]!.end) out.push(readTlv(tbs, pos, 'test'));
    return out;
  };
  const top = readTlv(tbs, 0, 'test');
  const field = inside(top.start, top.end).find((f) => f.tag === 0xa3);
  if (!field) return [];
  const list = inside(field.start, field.end)[0]!;
  return inside(list.start, list.end).map((e) => {
    const oid = inside(e.start, e.end)[0]!;
    return toHex(tbs.subarray(oid.start, oid.end));
  });
}

describe.skipIf(!v.present)(
  `parseCertificate vs @peculiar/x509 on the real vectors${v.present ? '' : ` (skipped: ${v.skipReason})`}`,
  () => {
    it('every real certificate, also those inside TDX quotes, parses to the same fields', async () => {
      const certs = realCertificates();
      // AMD: 7 leaves and 6 ASK/ARK chains; Intel: roots, chains and the PCK chains in quotes; NVIDIA.
      expect(certs.length).toBeGreaterThanOrEqual(40);
      expect(certs.some((c) => c.name.endsWith('quote.bin#0'))).toBe(true);
      for (const { name, der } of certs) expectSameAsPeculiar(await parseCertificate(der), der, name);
    });

    it('a real VCEK cut at any byte, or with a byte added, is malformed_certificate', async () => {
      const der = v.bytes('snp/milan-v2-virtee/vcek.der');
      for (let i = 0; i < der.length; i++) {
        expect(await codeOf(() => parseCertificate(der.subarray(0, i))), `cut at ${i}`).toBe(
          'malformed_certificate',
        );
      }
      for (const extra of [0x00, 0x30, 0xff]) {
        expect(await codeOf(() => parseCertificate(concatBytes(der, Uint8Array.of(extra))))).toBe(
          'malformed_certificate',
        );
      }
    });

    it('every byte of a real VCEK changed (low and high bit flipped, 0x00, 0xFF): refused as malformed, or the same fields as @peculiar reads', async () => {
      const der = v.bytes('snp/milan-v2-virtee/vcek.der');
      // Left as bytes by design (x509-fields.ts readTbsFields): both AlgorithmIdentifiers (pinned
      // DER), subjectPublicKeyInfo (WebCrypto parses it) and the signature. A change there that
      // @peculiar cannot decode is still read; an algorithm changed is no longer AMD's.
      const tlvs = (start: number, end: number) => {
        const out: [number, number][] = [];
        for (let pos = start; pos < end; pos = readTlv(der, pos, 'test').end) {
          out.push([pos, readTlv(der, pos, 'test').end]);
        }
        return out;
      };
      const [tbs, outerAlg, signature] = tlvs(4, der.length) as [
        [number, number],
        [number, number],
        [number, number],
      ];
      const fields = tlvs(tbs[0] + 4, tbs[1]);
      const algorithms = [fields[2]!, outerAlg];
      const opaque = [...algorithms, fields[6]!, signature];
      const original = await parseCertificate(der);
      const inside = (i: number, regions: [number, number][]) => regions.some(([a, b]) => i >= a && i < b);
      const outcomes = { refused: 0, read: 0, opaque: 0 };
      for (let i = 0; i < der.length; i++) {
        const values = new Set([0x00, 0xff, der[i]! ^ 0x01, der[i]! ^ 0x80]);
        values.delete(der[i]!);
        for (const value of values) {
          const m = der.slice();
          m[i] = value;
          let got: ParsedCertificate;
          try {
            got = await parseCertificate(m);
          } catch (e) {
            expect(isSealgateError(e, 'malformed_certificate'), `byte ${i} = ${value}: ${String(e)}`).toBe(
              true,
            );
            outcomes.refused++;
            continue;
          }
          if (inside(i, opaque)) {
            // A byte of what is kept as bytes changed: every decoded field reads as in the
            // original, and a changed algorithm is no longer AMD's.
            expect(
              [got.subjectText, got.notBefore, got.notAfter, got.isCa, got.mayCertSign],
              `byte ${i} = ${value}`,
            ).toEqual([
              original.subjectText,
              original.notBefore,
              original.notAfter,
              original.isCa,
              original.mayCertSign,
            ]);
            expect(got.extensions.map((e) => [e.oid, toHex(e.value)])).toEqual(
              original.extensions.map((e) => [e.oid, toHex(e.value)]),
            );
            if (inside(i, algorithms)) expect(got.signatureAlgorithmIsAmdPss).toBe(false);
            outcomes.opaque++;
            continue;
          }
          // What the strict reader accepts, the reference reads the same way.
          expectSameAsPeculiar(got, m, `byte ${i} = ${value}`);
          outcomes.read++;
        }
      }
      // Structure (tags, lengths, OIDs, times, booleans) is refused; key, signature, serial and
      // extension contents are read as changed bytes.
      expect(outcomes.refused).toBeGreaterThan(1000);
      expect(outcomes.read).toBeGreaterThan(500);
      expect(outcomes.opaque).toBeGreaterThan(1000);
    });

    it('a real VCEK with a non-minimal or indefinite length is malformed_certificate', async () => {
      const der = v.bytes('snp/milan-v2-virtee/vcek.der');
      // The outer SEQUENCE: 0x82 LL LL; re-encoded with 3 length bytes (leading zero) or 0x80.
      expect(der[1]).toBe(0x82);
      const body = der.subarray(4);
      const longer = concatBytes(Uint8Array.of(0x30, 0x83, 0x00, der[2]!, der[3]!), body);
      const indefinite = concatBytes(Uint8Array.of(0x30, 0x80), body, Uint8Array.of(0, 0));
      for (const bad of [longer, indefinite]) {
        expect(await codeOf(() => parseCertificate(bad))).toBe('malformed_certificate');
        expect(await codeOf(() => readCertificateFields(bad))).toBe('malformed_certificate');
      }
    });
  },
);

describe('parseCertificate vs @peculiar/x509 on certificates Sealgate issues', () => {
  it('a simulator-issued VLEK chain (ARK, ASVK, VLEK) and worker certificates parse to the same fields', async () => {
    const chain = await createDevChain({
      product: 'Milan',
      signingKey: 'vlek',
      now: new Date('2026-03-01T00:00:00Z'),
      tcb: { bootloader: 4, tee: 0, snp: 23, microcode: 213 },
    });
    const { signing } = await generateServiceKeys();
    const receipt = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const workerSpki = new Uint8Array(await crypto.subtle.exportKey('spki', receipt.publicKey));
    const workers = await Promise.all(
      [true, false].map((simulated) =>
        issueWorkerCertificate({
          issuer: signing,
          workerSigningKey: workerSpki,
          workerHpkeKey: new Uint8Array(1216).fill(3),
          measurement: new Uint8Array(48).fill(7),
          manifestDigest: 'ab'.repeat(32),
          configDigest: 'cf'.repeat(32),
          simulated,
          now: new Date('2026-03-01T12:00:00Z'),
          lifetimeSeconds: 900,
        }),
      ),
    );
    const all = [
      ['ark', chain.certificates.ark],
      ['asvk', chain.certificates.ask],
      ['vlek', chain.certificates.vcek],
      ...workers.map((w, i) => [`worker#${i}`, w.der] as const),
    ] as const;
    for (const [name, der] of all) expectSameAsPeculiar(await parseCertificate(der), der, name);
    // The worker certificate's 128-bit arcs are decoded exactly (@peculiar would say 2.25.{hex}).
    const worker = await parseCertificate(workers[0]!.der);
    expect(worker.extensions.map((e) => e.oid)).toContain('2.25.333905107900016310972470196611105242791.1.1');
    expect(worker.subjectText).toBe('CN=sealgate-worker');
  }, 180_000);

  it('the hand-encoded Sealgate names are what @peculiar/x509 writes', () => {
    for (const text of ['CN=sealgate-worker', 'CN=sealgate-attestation-service']) {
      expect(toHex(encodeCommonNameDer(text))).toBe(
        toHex(new Uint8Array(new x509.Name(text).toArrayBuffer())),
      );
    }
    for (const bad of ['CN=a,b', 'O=x', 'CN=', 'CN=é']) {
      expect(() => encodeCommonNameDer(bad), bad).toThrow();
    }
  });
});

// A synthetic certificate, field by field (RFC 5280 §4.1), to change one thing at a time. The
// signature is not checked by the parser, so any bytes do.
const t = (tag: number, ...parts: Uint8Array[]) => derTlv(tag, concatBytes(...parts));
const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const oid = (dotted: string) => t(0x06, encodeOidContent(dotted));
const V3 = t(0xa0, bytes(0x02, 0x01, 0x02));
const utc = (s: string) => t(0x17, ascii(s));
const VALIDITY = t(0x30, utc('260101000000Z'), utc('270101000000Z'));
const name = (...atvs: [string, number, Uint8Array][]) =>
  t(0x30, ...atvs.map(([o, tag, value]) => t(0x31, t(0x30, oid(o), t(tag, value)))));
const CN = (value: string, tag = 0x0c) =>
  name(['2.5.4.3', tag, tag === 0x0c ? new TextEncoder().encode(value) : ascii(value)]);
const SPKI = t(0x30, t(0x30, oid('1.2.840.10045.2.1'), oid('1.3.132.0.34')), t(0x03, bytes(0, 4, 1, 2)));
const ext = (o: string, value: Uint8Array, critical?: Uint8Array) =>
  t(0x30, oid(o), ...(critical ? [critical] : []), t(0x04, value));
const TRUE = bytes(0x01, 0x01, 0xff);

function cert(
  o: {
    version?: Uint8Array | null;
    serial?: Uint8Array;
    subject?: Uint8Array;
    validity?: Uint8Array;
    extensions?: Uint8Array[] | null;
  } = {},
): Uint8Array {
  const exts = o.extensions === undefined ? [ext('2.5.29.19', t(0x30, TRUE), TRUE)] : o.extensions;
  const tbs = t(
    0x30,
    o.version === undefined ? V3 : (o.version ?? new Uint8Array()),
    o.serial ?? bytes(0x02, 0x01, 0x05),
    ECDSA_SHA384_ALGORITHM,
    CN('issuer'),
    o.validity ?? VALIDITY,
    o.subject ?? CN('subject'),
    SPKI,
    ...(exts === null ? [] : [t(0xa3, t(0x30, ...exts))]),
  );
  return t(0x30, tbs, ECDSA_SHA384_ALGORITHM, t(0x03, bytes(0, 0x30, 0x00)));
}

/**
 * parseCertificate's outcome, with readCertificateFields (no signature, no signatureValue check)
 * consistent with it: what the verifier's parser reads, the field reader reads too, and neither
 * throws anything but malformed_certificate.
 */
async function outcome(der: Uint8Array): Promise<string | null> {
  const a = await codeOf(() => parseCertificate(der));
  const b = await codeOf(() => readCertificateFields(der));
  expect([null, 'malformed_certificate']).toContain(a);
  expect([null, 'malformed_certificate']).toContain(b);
  if (a === null) expect(b).toBeNull();
  return a;
}

describe('parseCertificate: boundaries on synthetic certificates', () => {
  it('the synthetic certificate itself reads the same as @peculiar reads it', async () => {
    const der = cert();
    expectSameAsPeculiar(await parseCertificate(der), der, 'synthetic');
    const got = await parseCertificate(der);
    expect(got.isCa).toBe(true);
    expect([got.version, got.serialNumber]).toEqual([2, '05']);
    expect(toHex(got.tbsSignatureAlgorithm)).toBe(toHex(ECDSA_SHA384_ALGORITHM));
  });

  it('an element that overruns its parent, trailing bytes inside a SEQUENCE, or a missing field is refused', async () => {
    // The subject's SET claims one byte more than its SEQUENCE holds.
    const subject = CN('x');
    const overrun = subject.slice();
    overrun[3]!++;
    for (const der of [
      cert({ subject: overrun }),
      cert({ validity: t(0x30, utc('260101000000Z'), utc('270101000000Z'), bytes(0x05, 0x00)) }),
      cert({ validity: t(0x30, utc('260101000000Z')) }),
      cert({ subject: t(0x30, t(0x31)) }), // an empty RDN
      cert({ serial: bytes(0x04, 0x01, 0x05) }), // serialNumber not an INTEGER
    ]) {
      expect(await outcome(der), toHex(der)).toBe('malformed_certificate');
    }
  });

  it('attribute values: UTF8String, PrintableString and IA5String read; other string types and bad characters refused', async () => {
    const ok = [
      CN('SEV-VCEK', 0x13),
      CN('caf\u00e9', 0x0c),
      CN('a,b+c', 0x0c), // RFC 4514 §2.4 escaping in the text
      name(['2.5.4.3', 0x13, ascii('x')], ['1.2.840.113549.1.9.1', 0x16, ascii('a@b.example')]),
      name(['2.5.4.6', 0x13, ascii('US')], ['2.5.4.10', 0x0c, ascii('AMD')]),
    ];
    for (const subject of ok) {
      const der = cert({ subject });
      expectSameAsPeculiar(await parseCertificate(der), der, toHex(subject));
    }
    expect((await parseCertificate(cert({ subject: CN('a,b+c') }))).subjectText).toBe('CN=a\\,b\\+c');
    for (const subject of [
      CN('x', 0x1e), // BMPString
      CN('x', 0x14), // TeletexString
      CN('x', 0x1c), // UniversalString
      CN('a*b', 0x13), // '*' is not PrintableString (X.680 §41.4)
      name(['2.5.4.3', 0x16, bytes(0x61, 0x0a)]), // a control character
      name(['2.5.4.3', 0x0c, bytes(0xc3, 0x28)]), // not UTF-8
      name(['2.5.4.3', 0x13, bytes(0xe9)]), // not ASCII
      t(0x30, t(0x31, t(0x30, oid('2.5.4.3')))), // no value
      t(0x30, t(0x30, t(0x30, oid('2.5.4.3'), t(0x0c, ascii('x'))))), // RDN a SEQUENCE, not a SET
    ]) {
      expect(await outcome(cert({ subject })), toHex(subject)).toBe('malformed_certificate');
    }
  });

  it('validity: both times checked (UTCTime, GeneralizedTime), a bad one refused', async () => {
    const gen = (s: string) => t(0x18, ascii(s));
    const got = await parseCertificate(
      cert({ validity: t(0x30, utc('500101000000Z'), gen('20500101000000Z')) }),
    );
    expect(got.notBefore.toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(got.notAfter.toISOString()).toBe('2050-01-01T00:00:00.000Z');
    for (const bad of [
      '260230000000Z',
      '261231240000Z',
      '2612312359Z',
      '261231235959+0100',
      '261231235960Z',
    ]) {
      expect(await outcome(cert({ validity: t(0x30, utc('260101000000Z'), utc(bad)) })), bad).toBe(
        'malformed_certificate',
      );
      expect(await outcome(cert({ validity: t(0x30, utc(bad), utc('260101000000Z')) })), bad).toBe(
        'malformed_certificate',
      );
    }
  });

  it('version: v3 with extensions, v1 only without; an explicit v1 or an unknown version refused', async () => {
    const read = async (version: Uint8Array | null) =>
      (await parseCertificate(cert({ version, extensions: null }))).version;
    expect(await read(null)).toBe(0);
    expect(await read(t(0xa0, bytes(0x02, 0x01, 0x01)))).toBe(1);
    expect(await read(V3)).toBe(2);
    expect(await outcome(cert({ version: null, extensions: null }))).toBeNull();
    expect(await outcome(cert({ version: null }))).toBe('malformed_certificate'); // extensions in v1
    expect(await outcome(cert({ version: t(0xa0, bytes(0x02, 0x01, 0x01)), extensions: null }))).toBeNull();
    expect(await outcome(cert({ version: t(0xa0, bytes(0x02, 0x01, 0x01)) }))).toBe('malformed_certificate');
    for (const version of [
      t(0xa0, bytes(0x02, 0x01, 0x00)), // explicit DEFAULT v1 (X.690 §11.5)
      t(0xa0, bytes(0x02, 0x01, 0x03)),
      t(0xa0, bytes(0x02, 0x02, 0x00, 0x02)),
      t(0xa0, bytes(0x04, 0x01, 0x02)),
      t(0xa0),
    ]) {
      expect(await outcome(cert({ version, extensions: null })), toHex(version)).toBe(
        'malformed_certificate',
      );
    }
  });

  it('extensions: critical TRUE read; explicit FALSE, a non-DER BOOLEAN, duplicates and an empty list refused', async () => {
    const value = t(0x30);
    const got = await parseCertificate(
      cert({ extensions: [ext('2.5.29.19', value, TRUE), ext('2.5.29.14', t(0x04, bytes(1)))] }),
    );
    expect(got.criticalExtensions).toEqual(['2.5.29.19']);
    expect(got.extensions.map((e) => e.oid)).toEqual(['2.5.29.19', '2.5.29.14']);
    for (const [what, extensions] of [
      ['explicit FALSE', [ext('2.5.29.19', value, bytes(0x01, 0x01, 0x00))]],
      ['BOOLEAN 0x01', [ext('2.5.29.19', value, bytes(0x01, 0x01, 0x01))]],
      ['two-byte BOOLEAN', [ext('2.5.29.19', value, bytes(0x01, 0x02, 0xff, 0xff))]],
      ['twice', [ext('2.5.29.14', value), ext('2.5.29.14', value)]],
      ['twice, huge arc', [ext(`2.25.${2n ** 127n}`, value), ext(`2.25.${2n ** 127n}`, value)]],
      ['empty list', []],
      ['extnValue not an OCTET STRING', [t(0x30, oid('2.5.29.14'), t(0x03, bytes(0)))]],
    ] as const) {
      expect(await outcome(cert({ extensions: [...extensions] })), what).toBe('malformed_certificate');
    }
  });

  it('basicConstraints and keyUsage (RFC 5280 §4.2.1.9, §4.2.1.3) decoded strictly', async () => {
    const bc = (content: Uint8Array) => cert({ extensions: [ext('2.5.29.19', content, TRUE)] });
    const ku = (bits: Uint8Array) => cert({ extensions: [ext('2.5.29.15', t(0x03, bits), TRUE)] });
    expect((await parseCertificate(bc(t(0x30)))).isCa).toBe(false);
    expect((await parseCertificate(bc(t(0x30, TRUE, bytes(0x02, 0x01, 0x00))))).isCa).toBe(true);
    expect((await parseCertificate(ku(bytes(0x01, 0x06)))).mayCertSign).toBe(true); // keyCertSign, cRLSign
    expect((await parseCertificate(ku(bytes(0x07, 0x80)))).mayCertSign).toBe(false); // digitalSignature
    for (const der of [
      bc(t(0x30, bytes(0x01, 0x01, 0x00))), // cA FALSE written
      bc(t(0x30, TRUE, bytes(0x02, 0x01, 0xff))), // negative pathLen
      bc(t(0x30, TRUE, bytes(0x02, 0x02, 0x00, 0x01))), // non-minimal pathLen
      bc(concatBytes(t(0x30), bytes(0))), // trailing byte
      ku(bytes(0x01, 0x07)), // an unused bit set (X.690 §11.2.1)
      ku(bytes(0x08, 0x00)),
      ku(bytes(0x01)),
    ]) {
      expect(await outcome(der), toHex(der)).toBe('malformed_certificate');
    }
    // Each one's differential: what is read is what @peculiar reads.
    for (const der of [bc(t(0x30)), ku(bytes(0x01, 0x06)), ku(bytes(0x07, 0x80))]) {
      expectSameAsPeculiar(await parseCertificate(der), der, toHex(der));
    }
  });

  it('OID arcs of any size are decoded exactly (2^64 + 1, a 128-bit UUID arc, 2^300)', async () => {
    for (const o of [
      `1.3.${2n ** 64n + 1n}`,
      '2.25.333905107900016310972470196611105242791.1.4',
      `2.${2n ** 300n}`,
    ]) {
      const got = await parseCertificate(cert({ extensions: [ext(o, t(0x05))] }));
      expect(got.extensions[0]!.oid).toBe(o);
    }
    // Non-minimal (leading 0x80) and truncated subidentifiers.
    for (const content of [bytes(0x2a, 0x80, 0x01), bytes(0x2a, 0x86), bytes(0x80, 0x01)]) {
      const der = cert({ extensions: [t(0x30, t(0x06, content), t(0x04, t(0x05)))] });
      expect(await outcome(der), toHex(content)).toBe('malformed_certificate');
    }
  });
});

describe('strict X.509 fields: properties (fast-check)', () => {
  it('any OID, arcs up to 2^200, decodes to what was encoded', () => {
    const arc = fc.bigInt({ min: 0n, max: 2n ** 200n });
    fc.assert(
      fc.property(
        fc.constantFrom(0n, 1n, 2n),
        fc.bigInt({ min: 0n, max: 2n ** 130n }),
        fc.array(arc, { maxLength: 6 }),
        (first, second, rest) => {
          const dotted = [first, first < 2n ? second % 40n : second, ...rest].join('.');
          const content = encodeOidContent(dotted);
          expect(decodeOid(content, 0, content.length)).toBe(dotted);
        },
      ),
    );
  });

  it('any whole second in 1950–2049 as UTCTime, and in years 0–9999 as GeneralizedTime, reads back', () => {
    const at = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
    const iso = (d: Date) => d.toISOString();
    const read = (tag: number, s: string) => {
      const der = t(tag, ascii(s));
      return readTime(der, { tag, start: 2, end: der.length }, 'time');
    };
    const digitsOf = (d: Date) => iso(d).replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2050, 0, 1) - 1 }), (ms) => {
        const d = at(ms);
        expect(iso(read(0x17, `${digitsOf(d).slice(2)}Z`))).toBe(iso(d));
      }),
    );
    const year0 = new Date(0);
    year0.setUTCFullYear(0, 0, 1);
    fc.assert(
      fc.property(fc.integer({ min: year0.getTime(), max: Date.UTC(9999, 11, 31, 23, 59, 59) }), (ms) => {
        const d = at(ms);
        const year = String(d.getUTCFullYear()).padStart(4, '0');
        expect(iso(read(0x18, `${year}${digitsOf(d).slice(4)}Z`))).toBe(iso(d));
      }),
    );
  });

  it('random bytes and random multi-byte changes of a certificate: read, or malformed_certificate, nothing else', async () => {
    const base = cert({
      extensions: [ext('2.5.29.19', t(0x30, TRUE), TRUE), ext('2.5.29.15', t(0x03, bytes(0x01, 0x06)), TRUE)],
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (changes) => {
          const m = base.slice();
          for (const [i, b] of changes) m[i] = b;
          expect([null, 'malformed_certificate']).toContain(await outcome(m));
        },
      ),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (raw) => {
        const m = concatBytes(bytes(0x30), raw);
        expect([null, 'malformed_certificate']).toContain(await codeOf(() => parseCertificate(m)));
      }),
      { numRuns: 300 },
    );
  });
});
