/**
 * The six real SEV-SNP reports (../shared/testdata/snp, see SOURCES.md): every value of each set's
 * expected.json, decoded by parseReport / decodeTcb, and a byte-identical serializeReport round trip.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import { decodeCertificate } from '../../../src/der/pem.js';
import { parseAmdCertExtensions } from '../../../src/evidence/snp/cert-extensions.js';
import { parseReport } from '../../../src/evidence/snp/parse-report.js';
import { productFromCpuid, productFromName } from '../../../src/evidence/snp/product.js';
import { serializeReport } from '../../../src/evidence/snp/serialize-report.js';
import { decodeTcb } from '../../../src/evidence/snp/tcb.js';
import type { SnpProduct, SnpReport, TcbVersion } from '../../../src/evidence/snp/types.js';
import { SNP_SETS, vectors } from '../../support/vectors.js';

const v = vectors();

interface ExpectedTcb {
  raw_u64_hex: string;
  layout: 'milan_genoa' | 'turin';
  fmcSPL?: number;
  blSPL: number;
  teeSPL: number;
  snpSPL: number;
  ucodeSPL: number;
}

interface Expected {
  files: { endorsement_cert: string };
  report: {
    size: number;
    version: number;
    guest_svn: number;
    policy_hex: string;
    policy: Record<string, boolean | number>;
    family_id: string;
    image_id: string;
    vmpl: number;
    signature_algo: number;
    current_tcb: ExpectedTcb;
    platform_info_hex: string;
    platform_info: Record<string, boolean>;
    signer_info_hex: string;
    author_key_en: number;
    mask_chip_key: number;
    signing_key: 'VCEK' | 'VLEK';
    report_data: string;
    measurement: string;
    host_data: string;
    id_key_digest: string;
    author_key_digest: string;
    report_id: string;
    report_id_ma: string;
    reported_tcb: ExpectedTcb;
    cpuid_fam_mod_step: { family: number; model: number; stepping: number } | string;
    chip_id: string;
    committed_tcb: ExpectedTcb;
    current_version: string;
    committed_version: string;
    launch_tcb: ExpectedTcb;
    launch_mit_vector: string;
    current_mit_vector: string;
    signature_r_le72: string;
    signature_s_le72: string;
  };
}

const TCB_FIELDS = ['currentTcb', 'reportedTcb', 'committedTcb', 'launchTcb'] as const;
const TCB_KEYS = {
  currentTcb: 'current_tcb',
  reportedTcb: 'reported_tcb',
  committedTcb: 'committed_tcb',
  launchTcb: 'launch_tcb',
} as const;

function expectedTcb(e: ExpectedTcb): TcbVersion {
  const t: TcbVersion = { bootloader: e.blSPL, tee: e.teeSPL, snp: e.snpSPL, microcode: e.ucodeSPL };
  if (e.layout === 'turin') t.fmc = e.fmcSPL;
  return t;
}

/** The product as the verifier will find it: CPUID on v3+, the certificate's productName on v2. */
function productOf(set: string, report: SnpReport, certPath: string): SnpProduct | null {
  if (report.cpuid) return productFromCpuid(report.cpuid);
  const ext = parseAmdCertExtensions(decodeCertificate(v.bytes(`snp/${set}/${certPath}`)));
  return productFromName(ext.productName);
}

describe.skipIf(!v.present)(`real SNP reports${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  for (const set of SNP_SETS) {
    describe(set, () => {
      const load = () => {
        const bytes = v.bytes(`snp/${set}/report.bin`);
        const exp = v.json<Expected>(`snp/${set}/expected.json`);
        return { bytes, exp, r: exp.report, report: parseReport(bytes) };
      };

      it('decodes the header, policy and platform fields', () => {
        const { bytes, r, report } = load();
        expect(bytes.length).toBe(r.size);
        expect(report.version).toBe(r.version);
        expect(report.guestSvn).toBe(r.guest_svn);
        expect(report.policy.raw).toBe(BigInt(r.policy_hex));
        expect(report.policy).toEqual({
          raw: BigInt(r.policy_hex),
          abiMinor: r.policy.abi_minor,
          abiMajor: r.policy.abi_major,
          smt: r.policy.smt,
          migrateMa: r.policy.migrate_ma,
          debug: r.policy.debug,
          singleSocket: r.policy.single_socket,
          cxlAllow: r.policy.cxl_allow,
          memAes256Xts: r.policy.mem_aes_256_xts,
          raplDis: r.policy.rapl_dis,
          ciphertextHiding: r.policy.ciphertext_hiding_dram,
          pageSwapDisable: r.policy.page_swap_disable,
        });
        expect(((report.policy.raw >> 17n) & 1n) === 1n).toBe(r.policy.reserved_bit17_must_be_1);
        expect(toHex(report.familyId)).toBe(r.family_id);
        expect(toHex(report.imageId)).toBe(r.image_id);
        expect(report.vmpl).toBe(r.vmpl);
        expect(report.signatureAlgo).toBe(r.signature_algo);
        expect(report.platformInfo).toEqual({
          raw: BigInt(r.platform_info_hex),
          smtEnabled: r.platform_info.smt_enabled,
          tsmeEnabled: r.platform_info.tsme_enabled,
          eccEnabled: r.platform_info.ecc_enabled,
          raplDisabled: r.platform_info.rapl_disabled,
          ciphertextHidingEnabled: r.platform_info.ciphertext_hiding_dram_enabled,
          aliasCheckComplete: r.platform_info.alias_check_complete,
          tioEnabled: r.platform_info.sev_tio_enabled,
        });
        expect(((report.platformInfo.raw >> 6n) & 1n) === 1n).toBe(r.platform_info.bit6_reserved);
      });

      it('decodes signer info and every byte field', () => {
        const { r, report } = load();
        const signerInfo =
          (report.authorKeyEn ? 1 : 0) |
          (report.maskChipKey ? 2 : 0) |
          ((report.signingKey === 'vlek' ? 1 : 0) << 2);
        expect(signerInfo).toBe(Number(r.signer_info_hex));
        expect(report.authorKeyEn).toBe(r.author_key_en === 1);
        expect(report.maskChipKey).toBe(r.mask_chip_key === 1);
        expect(report.signingKey).toBe(r.signing_key.toLowerCase());
        expect(toHex(report.reportData)).toBe(r.report_data);
        expect(toHex(report.measurement)).toBe(r.measurement);
        expect(toHex(report.hostData)).toBe(r.host_data);
        expect(toHex(report.idKeyDigest)).toBe(r.id_key_digest);
        expect(toHex(report.authorKeyDigest)).toBe(r.author_key_digest);
        expect(toHex(report.reportId)).toBe(r.report_id);
        expect(toHex(report.reportIdMa)).toBe(r.report_id_ma);
        expect(toHex(report.chipId)).toBe(r.chip_id);
        expect(toHex(report.signature.rLe)).toBe(r.signature_r_le72);
        expect(toHex(report.signature.sLe)).toBe(r.signature_s_le72);
      });

      it('decodes CPUID, firmware versions and MIT vectors per version', () => {
        const { r, report } = load();
        if (typeof r.cpuid_fam_mod_step === 'string') {
          expect(r.version).toBe(2);
          expect(report.cpuid).toBeNull();
        } else {
          expect(report.cpuid).toEqual(r.cpuid_fam_mod_step);
        }
        const fw = (x: { major: number; minor: number; build: number }) => `${x.major}.${x.minor}.${x.build}`;
        expect(fw(report.currentVersion)).toBe(r.current_version);
        expect(fw(report.committedVersion)).toBe(r.committed_version);
        if (r.version >= 5) {
          expect(report.launchMitVector).toBe(BigInt(r.launch_mit_vector));
          expect(report.currentMitVector).toBe(BigInt(r.current_mit_vector));
        } else {
          expect(r.launch_mit_vector).toMatch(/^n\/a/);
          expect(report.launchMitVector).toBeNull();
          expect(report.currentMitVector).toBeNull();
        }
      });

      it('decodes all four TCBs with the product layout', () => {
        const { exp, r, report } = load();
        const product = productOf(set, report, exp.files.endorsement_cert);
        expect(product).not.toBeNull();
        for (const f of TCB_FIELDS) {
          const e = r[TCB_KEYS[f]];
          expect(report[f]).toBe(BigInt(e.raw_u64_hex));
          expect(e.layout).toBe(product === 'Turin' ? 'turin' : 'milan_genoa');
          expect(decodeTcb(report[f], product!)).toEqual(expectedTcb(e));
        }
      });

      it('signs exactly [0x000, 0x2A0) and returns copies', () => {
        const { bytes, report } = load();
        expect(report.raw).toEqual(bytes);
        expect(report.signedBytes).toEqual(bytes.subarray(0, 0x2a0));
        const before = toHex(report.measurement);
        bytes.fill(0xee);
        expect(toHex(report.measurement)).toBe(before);
        expect(report.raw[0x90]).not.toBe(0xee);
      });

      it('serializeReport gives the same 1184 bytes back', () => {
        const { bytes, report } = load();
        const { raw: _raw, signedBytes: _signed, ...fields } = report;
        expect(toHex(serializeReport(fields))).toBe(toHex(bytes));
      });
    });
  }

  it('the Turin report needs the Turin layout: the Milan/Genoa one rejects it and would read other values', () => {
    const report = parseReport(v.bytes('snp/turin-v5-oak/report.bin'));
    expect(report.reportedTcb).toBe(0x4700000002000100n);
    expect(decodeTcb(report.reportedTcb, 'Turin')).toEqual({
      fmc: 0,
      bootloader: 1,
      tee: 0,
      snp: 2,
      microcode: 71,
    });
    // Byte 3 (Turin's SNP) is reserved in the legacy layout.
    expect(() => decodeTcb(report.reportedTcb, 'Genoa')).toThrowError(
      'TCB_VERSION 0x4700000002000100: reserved byte 3 is 0x02 in the Genoa layout',
    );
    // What a legacy reader (bytes 0, 1, 6, 7) would have taken as the TCB: bl=0 tee=1 snp=0.
    const byte = (i: number) => Number((report.reportedTcb >> BigInt(8 * i)) & 0xffn);
    expect({ bootloader: byte(0), tee: byte(1), snp: byte(6), microcode: byte(7) }).toEqual({
      bootloader: 0,
      tee: 1,
      snp: 0,
      microcode: 71,
    });
  });
});
