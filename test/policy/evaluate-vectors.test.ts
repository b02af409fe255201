/**
 * Stage 3 on real SEV-SNP reports (../shared/testdata, see SOURCES.md), parsed by stage 1. Skipped
 * with the reason where the vectors are missing.
 */
import { describe, expect, it } from 'vitest';
import testVectorsManifest from '../../manifests/test-vectors.json' with { type: 'json' };
import { evaluateRole } from '../../src/policy/evaluate-role.js';
import { evaluateSnp } from '../../src/policy/evaluate-snp.js';
import type { SnpReferenceValues } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { SNP_SETS, vectors } from '../support/vectors.js';
import { claimsFromVector, matchingReference } from './claims-fixture.js';

const v = vectors();
const codes = (c: ReturnType<typeof claimsFromVector>, ref: SnpReferenceValues): string[] =>
  evaluateSnp(c, ref, { expectedReportData: c.report.reportData }).map((x) => x.code);

describe.skipIf(!v.present)(
  `policy on real SNP reports${v.present ? '' : ` — skipped: ${v.skipReason}`}`,
  () => {
    it.each(SNP_SETS)('%s passes reference values made from its own claims', (set) => {
      const claims = claimsFromVector(v, set);
      expect(codes(claims, matchingReference(claims))).toEqual([]);
    });

    it('the DEBUG report (milan-v2-gosevguest) fails the default policy and passes with allowDebug', () => {
      const claims = claimsFromVector(v, 'milan-v2-gosevguest');
      expect(claims.report.policy.debug).toBe(true);
      const ref = matchingReference(claims);
      // Its policy 0xb0000 also allows SMT: allow that so DEBUG is the only difference.
      ref.policy = { allowSmt: true };
      expect(evaluateSnp(claims, ref)).toEqual([
        expect.objectContaining({
          code: 'debug_not_allowed',
          field: 'policy.debug',
          expected: false,
          actual: true,
        }),
      ]);
      ref.policy = { allowSmt: true, allowDebug: true };
      expect(evaluateSnp(claims, ref)).toEqual([]);
      delete ref.policy;
      // Without allowSmt the host's SMT_EN (PLATFORM_INFO 0x1) is refused too: it defaults to the policy's.
      expect(codes(claims, ref).sort()).toEqual([
        'debug_not_allowed',
        'platform_smt_not_allowed',
        'smt_not_allowed',
      ]);
    });

    it('the AWS VLEK report at VMPL 1 needs vlek and vmpl 1 said explicitly', () => {
      const claims = claimsFromVector(v, 'milan-v3-vlek-aws-trustee');
      const ref = matchingReference(claims);
      delete ref.signingKeys;
      delete ref.vmpl;
      expect(evaluateSnp(claims, ref)).toEqual([
        expect.objectContaining({ code: 'signing_key_not_allowed', expected: ['vcek'], actual: 'vlek' }),
        expect.objectContaining({ code: 'vmpl_not_allowed', expected: 0, actual: 1 }),
      ]);
      // CHIP_ID is zero under a VLEK: pinning chips rejects it.
      expect(codes(claims, { ...matchingReference(claims), chipIds: ['ab'.repeat(64)] })).toEqual([
        'chip_id_not_allowed',
      ]);
    });

    it('Turin: fmc is compared (reported fmc 0 against a minimum of 1)', () => {
      const claims = claimsFromVector(v, 'turin-v5-oak');
      expect(claims.reportedTcb).toEqual({ fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 });
      const ref = matchingReference(claims);
      ref.minimumTcb = { Turin: { fmc: 1, bootloader: 1, tee: 0, snp: 3, microcode: 71 } };
      // REPORTED, CURRENT and COMMITTED are all held to the minimum (equal on this host).
      const expected = ['reportedTcb', 'currentTcb', 'committedTcb'].flatMap((t) => [
        expect.objectContaining({ code: 'tcb_below_minimum', field: `${t}.fmc`, expected: 1, actual: 0 }),
        expect.objectContaining({ code: 'tcb_below_minimum', field: `${t}.snp`, expected: 3, actual: 2 }),
      ]);
      expect(evaluateSnp(claims, ref)).toEqual(expected);
    });

    it('the ID-block report: ID key, family, image and SVN are checked; AUTHOR_KEY_EN=0 fails an author-key rule', () => {
      const claims = claimsFromVector(v, 'milan-v2-idblock-trustee');
      const ref = matchingReference(claims);
      expect(ref.idKeyDigests).toEqual([
        '0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca491ecdd7f336dc28a6e0b2bb57af7a44a3',
      ]);
      expect(codes(claims, { ...ref, minimumGuestSvn: 5 })).toEqual(['guest_svn_below_minimum']);
      expect(codes(claims, { ...ref, authorKeyDigests: [ref.idKeyDigests![0]!] })).toEqual([
        'author_key_not_allowed',
      ]);
      expect(
        codes(claims, {
          ...ref,
          familyId: '02'.padEnd(32, '0'),
          imageId: '01'.padEnd(32, '0'),
          idKeyDigests: ['ff'.repeat(48)],
        }),
      ).toEqual(['id_key_not_allowed', 'family_id_mismatch', 'image_id_mismatch']);
    });

    describe('manifests/test-vectors.json', () => {
      const manifest = parseManifest(testVectorsManifest);

      it('its worker role accepts the Milan ID-block report and its service role the Turin report', () => {
        const milan = claimsFromVector(v, 'milan-v2-idblock-trustee');
        const turin = claimsFromVector(v, 'turin-v5-oak');
        expect(
          evaluateRole(manifest, 'worker', milan, { expectedReportData: milan.report.reportData }),
        ).toEqual([]);
        expect(
          evaluateRole(manifest, 'attestation-service', turin, {
            expectedReportData: turin.report.reportData,
          }),
        ).toEqual([]);
      });

      it('the roles do not accept each other’s report, nor a stale REPORT_DATA', () => {
        const milan = claimsFromVector(v, 'milan-v2-idblock-trustee');
        expect(evaluateRole(manifest, 'attestation-service', milan).map((x) => x.code)).toEqual([
          'product_not_allowed',
          'measurement_not_allowed',
          'provisional_firmware_not_allowed',
          'chip_id_not_allowed',
          'family_id_mismatch',
          'image_id_mismatch',
        ]);
        const turin = claimsFromVector(v, 'turin-v5-oak');
        expect(
          evaluateRole(manifest, 'worker', turin, { expectedReportData: new Uint8Array(64) }).map(
            (x) => x.code,
          ),
        ).toEqual([
          'product_not_allowed',
          'measurement_not_allowed',
          'report_data_mismatch',
          'abi_too_old',
          'guest_svn_below_minimum',
          'id_key_not_allowed',
          'chip_id_not_allowed',
          'family_id_mismatch',
          'image_id_mismatch',
        ]);
      });
    });
  },
);
