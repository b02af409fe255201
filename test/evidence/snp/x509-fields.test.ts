/**
 * The strict X.509 field reader (src/der/x509-fields.ts) against @peculiar/x509 as the
 * reference, on every real certificate of the test vectors (AMD, Intel, NVIDIA), then its
 * boundaries: truncation at every byte, every single-byte change of a real VCEK, times, booleans,
 * duplicate extensions and OID arcs beyond 2^53.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import { decodeCertificates } from '../../../src/der/pem.js';
import {
  decodeOid,
  MAX_OID_ARC_DIGITS,
  readCertificateFields,
  readExtensions,
  readName,
  readTime,
} from '../../../src/der/x509-fields.js';
import { isSealgateError } from '../../../src/errors.js';
import { vectors } from '../../support/vectors.js';

const v = vectors();

/** Every certificate in the vectors that @peculiar/x509 reads (CRLs and other files are left out). */
function realCertificates(): { name: string; der: Uint8Array }[] {
  const out: { name: string; der: Uint8Array }[] = [];
  for (const path of v.list('')) {
    if (!/\.(pem|der|crt)$/.test(path) || /crl/i.test(path)) continue;
    let ders: Uint8Array[];
    try {
      ders = decodeCertificates(v.bytes(path));
    } catch {
      continue; // not (only) certificates
    }
    for (const [i, der] of ders.entries()) out.push({ name: `${path}#${i}`, der });
  }
  return out;
}

const tlv = (tag: number, content: number[]): number[] => {
  if (content.length >= 128) throw new Error('test helper: short lengths only');
  return [tag, content.length, ...content];
};
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const timeOf = (tag: number, s: string) => {
  const der = Uint8Array.from(tlv(tag, ascii(s)));
  return readTime(der, { tag, start: 2, end: der.length }, 'time');
};
const code = (f: () => unknown): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    return isSealgateError(e) ? e.code : `not a SealgateError: ${(e as Error).message}`;
  }
};

describe.skipIf(!v.present)(
  `strict X.509 fields vs @peculiar/x509 on the real vectors${v.present ? '' : ` (skipped: ${v.skipReason})`}`,
  () => {
    it('every real certificate reads the same subject, validity, extensions and constraints', () => {
      const certs = realCertificates();
      // AMD (7 leaves, 12 ASK/ARK chains), Intel's roots and chains, NVIDIA's chains.
      expect(certs.length).toBeGreaterThanOrEqual(30);
      for (const { name, der } of certs) {
        const ref = new x509.X509Certificate(der.slice());
        const got = readCertificateFields(der);
        expect(got.subject.cns, name).toEqual(ref.subjectName.getField('CN'));
        expect(got.subject.text, name).toBe(ref.subject);
        expect(got.notBefore.getTime(), name).toBe(ref.notBefore.getTime());
        expect(got.notAfter.getTime(), name).toBe(ref.notAfter.getTime());
        expect(
          got.extensions.map((e) => [e.oid, e.critical, toHex(e.value)]),
          name,
        ).toEqual(ref.extensions.map((e) => [e.type, e.critical, toHex(new Uint8Array(e.value))]));
        const bc = ref.getExtension(x509.BasicConstraintsExtension);
        expect(got.isCa, name).toBe(bc ? bc.ca : false);
        const ku = ref.getExtension(x509.KeyUsagesExtension);
        expect(got.mayCertSign, name).toBe(ku ? (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0 : true);
      }
    });

    it('a real VCEK cut at any byte is malformed_certificate', () => {
      const der = v.bytes('snp/milan-v2-virtee/vcek.der');
      for (let i = 0; i < der.length; i++) {
        expect(
          code(() => readCertificateFields(der.subarray(0, i))),
          `cut at ${i}`,
        ).toBe('malformed_certificate');
      }
    });

    it('every single-byte change of a real VCEK reads or is malformed_certificate, nothing else', () => {
      const der = v.bytes('snp/milan-v2-virtee/vcek.der');
      const reference = readCertificateFields(der);
      let refused = 0;
      for (let i = 0; i < der.length; i++) {
        for (const flip of [0x01, 0x80]) {
          const m = der.slice();
          m[i]! ^= flip;
          const c = code(() => readCertificateFields(m));
          expect([null, 'malformed_certificate'], `byte ${i} ^ ${flip}`).toContain(c);
          if (c !== null) refused++;
        }
      }
      // Structure bytes (tags, lengths, times, OIDs, booleans) are refused, not misread.
      expect(refused).toBeGreaterThan(100);
      expect(reference.subject.cns).toEqual(['SEV-VCEK']);
    });
  },
);

describe('strict X.509 fields: boundaries', () => {
  it('times: UTCTime pivot at 50, calendar-checked, seconds and Z required', () => {
    expect(timeOf(0x17, '491231235959Z').toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(timeOf(0x17, '500101000000Z').toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(timeOf(0x18, '20500101000000Z').toISOString()).toBe('2050-01-01T00:00:00.000Z');
    for (const [tag, s] of [
      [0x17, '260230000000Z'], // 30 February
      [0x17, '261231240000Z'], // 24:00:00
      [0x17, '2612312359Z'], // no seconds
      [0x17, '261231235959+0100'], // not UTC
      [0x18, '20261231235959.5Z'], // fraction
      [0x18, '2026123123595Z '],
      [0x17, '26123123595aZ'],
      [0x04, '261231235959Z'], // not a time type
    ] as const) {
      expect(
        code(() => timeOf(tag, s)),
        s,
      ).toBe('malformed_certificate');
    }
  });

  const oid = (arcs: number[]) => tlv(0x06, arcs);
  const ext = (parts: number[][]) => tlv(0x30, parts.flat());
  const extensionsField = (list: number[][]) => {
    const der = Uint8Array.from(tlv(0xa3, tlv(0x30, list.flat())));
    return () => readExtensions(der, [{ tag: 0xa3, start: 2, end: der.length }]);
  };
  const basic = oid([0x55, 0x1d, 0x13]);
  const keyUsage = oid([0x55, 0x1d, 0x0f]);

  it('extensions: critical TRUE read, explicit FALSE and non-DER booleans refused, duplicates refused', () => {
    const value = tlv(0x04, tlv(0x30, []));
    expect(extensionsField([ext([basic, tlv(0x01, [0xff]), value])])()).toMatchObject([
      { oid: '2.5.29.19', critical: true },
    ]);
    expect(extensionsField([ext([basic, value])])()).toMatchObject([{ oid: '2.5.29.19', critical: false }]);
    for (const [what, list] of [
      ['explicit FALSE', [ext([basic, tlv(0x01, [0x00]), value])]],
      ['BOOLEAN 0x01', [ext([basic, tlv(0x01, [0x01]), value])]],
      ['twice', [ext([basic, value]), ext([basic, value])]],
      ['no extnValue', [ext([basic])]],
      ['extra element', [ext([basic, value, value])]],
      ['empty list', []],
    ] as const) {
      expect(code(extensionsField(list as unknown as number[][])), what).toBe('malformed_certificate');
    }
    expect(extensionsField([ext([keyUsage, tlv(0x04, tlv(0x03, [0x01, 0x06]))])])).not.toThrow();
  });

  it('OIDs: arcs beyond 2^53 exactly, minimal subidentifiers only', () => {
    const big = 333905107900016310972470196611105242791n; // a 128-bit UUID arc (2.25.…)
    const base128 = (n: bigint): number[] => {
      const out = [Number(n & 0x7fn)];
      for (let x = n >> 7n; x > 0n; x >>= 7n) out.unshift(Number(x & 0x7fn) | 0x80);
      return out;
    };
    const bytes = Uint8Array.from([...base128(2n * 40n + 25n), ...base128(big), 0x01]);
    expect(decodeOid(bytes, 0, bytes.length)).toBe(`2.25.${big}.1`);
    const huge = Uint8Array.from(base128(80n + big)); // 2.<big> in the first subidentifier
    expect(decodeOid(huge, 0, huge.length)).toBe(`2.${big}`);
    expect(decodeOid(Uint8Array.of(0x2a, 0x86, 0x48), 0, 3)).toBe('1.2.840');
    for (const bad of [[0x2a, 0x80, 0x01], [0x2a, 0x86], []]) {
      const b = Uint8Array.from(bad);
      expect(
        code(() => decodeOid(b, 0, b.length)),
        toHex(b),
      ).toBe('malformed_certificate');
    }
  });

  it('OIDs: the common ones read the same from their table as by their arcs; a near miss by its arcs', () => {
    // 1.3.6.1.4.1.3704.1.3.1 (AMD blSPL) and 2.5.4.3 (CN): kept once read, then read from the table.
    const amd = Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x01, 0x03, 0x01);
    const cn = Uint8Array.of(0x55, 0x04, 0x03);
    for (let i = 0; i < 3; i++) {
      expect(decodeOid(amd, 0, amd.length)).toBe('1.3.6.1.4.1.3704.1.3.1');
      expect(decodeOid(cn, 0, cn.length)).toBe('2.5.4.3');
    }
    // Same length and last two bytes as a kept one, another arc inside: its own text, not the kept one.
    const near = amd.slice();
    near[6] = 0x79; // 3705
    expect(decodeOid(near, 0, near.length)).toBe('1.3.6.1.4.1.3705.1.3.1');
    const near2 = Uint8Array.of(0x56, 0x04, 0x03); // 2.6.4.3
    expect(decodeOid(near2, 0, near2.length)).toBe('2.6.4.3');
    // At an offset inside a larger buffer, as certificates are read.
    const inside = Uint8Array.of(0xff, ...amd, 0xff);
    expect(decodeOid(inside, 1, 1 + amd.length)).toBe('1.3.6.1.4.1.3704.1.3.1');
  });

  it('OIDs: an arc of more than MAX_OID_ARC_DIGITS base-128 digits is refused (CVE-2023-2650 class)', () => {
    const arc = (digits: number) => {
      const b = new Uint8Array(digits + 1).fill(0xff);
      b[0] = 0x2a; // 1.2, then one arc of `digits` digits
      b[digits] = 0x7f;
      return b;
    };
    const atBound = arc(MAX_OID_ARC_DIGITS);
    expect(decodeOid(atBound, 0, atBound.length)).toBe(`1.2.${2n ** BigInt(7 * MAX_OID_ARC_DIGITS) - 1n}`);
    for (const digits of [MAX_OID_ARC_DIGITS + 1, 64 * 1024]) {
      const b = arc(digits);
      expect(
        code(() => decodeOid(b, 0, b.length)),
        `${digits} digits`,
      ).toBe('malformed_certificate');
    }
  });
});

describe('strict X.509 fields: names', () => {
  const CN = [0x55, 0x04, 0x03];
  const O = [0x55, 0x04, 0x0a];
  const atv = (type: number[], tag: number, value: number[]) =>
    tlv(0x30, [...tlv(0x06, type), ...tlv(tag, value)]);
  const nameOf = (...rdns: number[][][]) => {
    const der = Uint8Array.from(
      tlv(
        0x30,
        rdns.flatMap((atvs) => tlv(0x31, atvs.flat())),
      ),
    );
    return () => readName(der, { tag: 0x30, start: 2, end: der.length }, 'subject');
  };
  const utf8 = (s: string) => Array.from(new TextEncoder().encode(s));

  it('RFC 4514 escaping: specials anywhere, a leading space or #, a trailing space, once each', () => {
    const cases: [string, string][] = [
      [' ', 'CN=\\ '],
      ['#', 'CN=\\#'],
      ['  ', 'CN=\\ \\ '],
      ['#a ', 'CN=\\#a\\ '],
      ['a b', 'CN=a b'],
      ['a#b', 'CN=a#b'],
      ['a,b+c;d<e>f"g\\h', 'CN=a\\,b\\+c\\;d\\<e\\>f\\"g\\\\h'],
      ['\\ ', 'CN=\\\\\\ '],
    ];
    for (const [value, text] of cases) {
      expect(nameOf([atv(CN, 0x0c, utf8(value))])().text, JSON.stringify(value)).toBe(text);
    }
  });

  it('unknown attribute types by dotted OID, multi-valued RDNs joined by +', () => {
    const read = nameOf(
      [atv(CN, 0x13, ascii('a')), atv(O, 0x0c, utf8('b'))],
      [atv([0x2a, 0x03, 0x04], 0x0c, utf8('é'))],
    )();
    expect(read).toEqual({ cns: ['a'], text: 'CN=a+O=b, 1.2.3.4=é' });
  });

  it('PrintableString is exactly X.680 §41.4; other string types are refused', () => {
    const allowed = /^[A-Za-z0-9 '()+,\-./:=?]$/;
    for (let b = 0; b < 256; b++) {
      const got = code(nameOf([atv(CN, 0x13, [0x41, b])]));
      expect(got, `0x${b.toString(16)}`).toBe(
        allowed.test(String.fromCharCode(b)) ? null : 'malformed_certificate',
      );
    }
    for (const tag of [0x14, 0x1e, 0x1c, 0x1a, 0x04]) {
      expect(code(nameOf([atv(CN, tag, [0, 0x41])])), `tag 0x${tag.toString(16)}`).toBe(
        'malformed_certificate',
      );
    }
    for (const bad of [[0x41, 0x1b], [0xc3], [0xed, 0xa0, 0x80], [0xc2, 0x85]]) {
      expect(code(nameOf([atv(CN, 0x0c, bad)])), toHex(Uint8Array.from(bad))).toBe('malformed_certificate');
    }
    expect(code(nameOf([[]]))).toBe('malformed_certificate'); // an empty RDN
  });

  it('UTF8String: a control character before a non-UTF-8 byte is named as such, after it the UTF-8 error', () => {
    const message = (value: number[]) => {
      try {
        nameOf([atv(CN, 0x0c, value)])();
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(message([0x41, 0x01, 0xff])).toBe('certificate: subject CN: control character in a string');
    expect(message([0x41, 0xff, 0x01])).toBe('certificate: subject CN: UTF8String is not UTF-8');
    expect(message([0x41, 0x7f])).toBe('certificate: subject CN: control character in a string');
    expect(nameOf([atv(CN, 0x0c, utf8('SEV-VCEK'))])().cns).toEqual(['SEV-VCEK']);
  });

  it('OIDs: the 7/8 base-128 digit boundary is exact; a leading 0x80 first is refused', () => {
    const base128 = (n: bigint): number[] => {
      const out = [Number(n & 0x7fn)];
      for (let x = n >> 7n; x > 0n; x >>= 7n) out.unshift(Number(x & 0x7fn) | 0x80);
      return out;
    };
    for (const arc of [2n ** 49n - 1n, 2n ** 49n, 2n ** 53n + 1n, 2n ** 56n - 1n, 2n ** 56n]) {
      const b = Uint8Array.from([0x2a, ...base128(arc)]);
      expect(decodeOid(b, 0, b.length)).toBe(`1.2.${arc}`);
    }
    for (const bad of [
      [0x80, 0x2a],
      [0x80, 0x80, 0x01],
    ]) {
      const b = Uint8Array.from(bad);
      expect(
        code(() => decodeOid(b, 0, b.length)),
        toHex(b),
      ).toBe('malformed_certificate');
    }
  });
});
