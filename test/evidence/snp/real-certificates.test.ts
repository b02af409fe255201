/**
 * The seven real VCEK/VLEK certificates (../shared/testdata/snp, SOURCES.md): DER or PEM decoding,
 * the kind from the subject CN, every AMD extension value of expected.json, and that
 * encodeAmdExtensions reproduces AMD's exact extension bytes.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { sha256, toHex } from '../../../src/bytes.js';
import { decodeCertificate, decodeCertificates } from '../../../src/der/pem.js';
import {
  AMD_EXTENSION_OIDS,
  encodeAmdExtensions,
  parseAmdCertExtensions,
} from '../../../src/evidence/snp/cert-extensions.js';
import { certificateKind } from '../../../src/evidence/snp/certificate.js';
import { vectors } from '../../support/vectors.js';

const v = vectors();

interface ExpectedExt {
  oid: string;
  der_hex?: string;
  raw_hex?: string;
  value?: number | string;
  len?: number;
}
interface ExpectedCert {
  subject_cn: string;
  sha256_fingerprint: string;
  amd_extensions: Record<string, ExpectedExt>;
}

const CERT_SETS = [
  ['milan-v2-gosevguest', 'vcek.der'],
  ['milan-v2-virtee', 'vcek.der'],
  ['milan-v2-idblock-trustee', 'vcek.der'],
  ['milan-v3-vlek-aws-trustee', 'vlek.der'],
  ['genoa-v3-azure-trustee', 'vcek.pem'],
  ['turin-v5-oak', 'vcek.der'],
] as const;

/** The AMD extensions of a real certificate as (OID → extnValue hex). */
function amdExtensionBytes(der: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of new x509.X509Certificate(der.slice()).extensions) {
    if (e.type.startsWith('1.3.6.1.4.1.3704.1.')) out.set(e.type, toHex(new Uint8Array(e.value)));
  }
  return out;
}

describe.skipIf(!v.present)(
  `real VCEK/VLEK certificates${v.present ? '' : ` (skipped: ${v.skipReason})`}`,
  () => {
    for (const [set, file] of CERT_SETS) {
      it(`${set}/${file}: every AMD extension value`, async () => {
        const exp = v.json<{ endorsement_cert: ExpectedCert }>(`snp/${set}/expected.json`).endorsement_cert;
        const der = decodeCertificate(v.bytes(`snp/${set}/${file}`));
        expect(toHex(await sha256(der))).toBe(exp.sha256_fingerprint);
        expect(certificateKind(der)).toBe(exp.subject_cn === 'SEV-VLEK' ? 'vlek' : 'vcek');

        const ext = parseAmdCertExtensions(der);
        const e = exp.amd_extensions;
        expect(ext.structVersion).toBe(e.structVersion?.value);
        expect(ext.productName).toBe(e.productName?.value);
        expect(ext.tcb.bootloader).toBe(e.blSPL?.value);
        expect(ext.tcb.tee).toBe(e.teeSPL?.value);
        expect(ext.tcb.snp).toBe(e.snpSPL?.value);
        expect(ext.tcb.microcode).toBe(e.ucodeSPL?.value);
        expect(ext.tcb.fmc).toBe(e.fmcSPL?.value);
        expect(ext.hwId === null ? null : toHex(ext.hwId)).toBe(e.hwID?.raw_hex ?? null);
        if (e.hwID) expect(ext.hwId?.length).toBe(e.hwID.len);
        expect(ext.cspId).toBe(e.cspID?.value ?? null);
        for (const name of ['spl4', 'spl5', 'spl6', 'spl7'] as const) {
          if (e[name]) expect(e[name].value).toBe(0);
        }

        // Every OID/bytes pair of expected.json is in the certificate, and our encoder emits the same set.
        const inCert = amdExtensionBytes(der);
        const expectedBytes = new Map(Object.values(e).map((x) => [x.oid, x.der_hex ?? x.raw_hex ?? '']));
        expect(inCert).toEqual(expectedBytes);
        const encoded = new Map(encodeAmdExtensions(ext).map((x) => [x.oid, toHex(x.value)]));
        expect(encoded).toEqual(expectedBytes);
      });
    }

    it('turin-vcek-only-virtee/vcek.der: values from SOURCES.md (no expected.json)', () => {
      const der = decodeCertificate(v.bytes('snp/turin-vcek-only-virtee/vcek.der'));
      expect(certificateKind(der)).toBe('vcek');
      expect(parseAmdCertExtensions(der)).toEqual({
        structVersion: 1,
        productName: 'Turin',
        tcb: { fmc: 0, bootloader: 0, tee: 0, snp: 0, microcode: 9 },
        hwId: Uint8Array.from([0x1e, 0x55, 0x0a, 0x8e, 0xe5, 0xcf, 0x9f, 0x4d]),
        cspId: null,
      });
      expect(amdExtensionBytes(der).get(AMD_EXTENSION_OIDS.fmcSPL)).toBe('020100');
    });

    it('the Genoa VCEK arrives as PEM and decodes to the DER inside', () => {
      const pem = v.bytes('snp/genoa-v3-azure-trustee/vcek.pem');
      expect(pem[0]).toBe(0x2d); // '-'
      const der = decodeCertificate(pem);
      expect(der[0]).toBe(0x30);
      expect(decodeCertificate(der)).toEqual(der);
    });

    it('AMD cert_chain PEM files hold ASK/ASVK then ARK', () => {
      for (const f of v.list('amd-roots/')) {
        const certs = decodeCertificates(v.bytes(f));
        expect(certs.length, f).toBe(2);
        expect(() => decodeCertificate(v.bytes(f)), f).toThrowError(
          'certificate: expected one certificate, got 2',
        );
        const cns = certs.map((c) => new x509.X509Certificate(c.slice()).subjectName.getField('CN')[0]);
        expect(cns[1], f).toMatch(/^ARK-(Milan|Genoa|Turin)$/);
        expect(cns[0], f).toMatch(/^SEV-(VLEK-)?(Milan|Genoa|Turin)$/);
        // An ASK is not an endorsement key certificate.
        expect(() => certificateKind(certs[0]!), f).toThrowError(
          /^certificate: subject CN ".*" is neither SEV-VCEK nor SEV-VLEK$/,
        );
      }
    });
  },
);
