/**
 * evaluateTdx / evaluateRoleTdx: the real phala-v4 TD's verified claims against `tdx` reference
 * values in a manifest (parsed by the real parser): pinned values pass; each rule, broken, gives
 * its violation; a role without `tdx` refuses TDX evidence and one without `snp` refuses SEV-SNP.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { evaluateRoleTdx } from '../../src/policy/evaluate-role.js';
import { evaluateTdx } from '../../src/policy/evaluate-tdx.js';
import type { TdxReferenceValues } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import type { TdxClaims } from '../../src/verify/tdx/tdx-claims.js';
import { verifyTdxEvidence } from '../../src/verify/tdx/verify-tdx.js';
import { codes, loadTdx, v } from '../verify/tdx/support.js';

describe.skipIf(!v.present)(`TDX reference values on a real TD ${v.skipReason}`, () => {
  let claims: TdxClaims;
  let pinned: TdxReferenceValues;

  beforeAll(async () => {
    const s = loadTdx('phala-v4-uptodate');
    claims = (await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at })).claims!;
    const b = claims.body;
    pinned = {
      mrTd: [toHex(b.mrTd)],
      rtmr0: [toHex(b.rtmrs[0])],
      rtmr1: [toHex(b.rtmrs[1])],
      rtmr2: [toHex(b.rtmrs[2])],
      rtmr3: [toHex(b.rtmrs[3])],
      mrConfigId: toHex(b.mrConfigId),
      mrOwner: toHex(b.mrOwner),
      mrOwnerConfig: toHex(b.mrOwnerConfig),
      mrSeam: [toHex(b.mrSeam)],
      xfam: [toHex(b.xfam)],
      minimumTeeTcbSvn: toHex(b.teeTcbSvn),
    };
  });

  const manifest = (tdx: TdxReferenceValues, snpToo = false) =>
    parseManifest({
      version: 1,
      name: 'tdx test',
      trustAnchors: {
        snp: [
          { sha256: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd', product: 'Milan' },
        ],
      },
      roles: {
        worker: {
          tdx,
          ...(snpToo
            ? {
                snp: {
                  measurements: ['ab'.repeat(48)],
                  minimumTcb: { Milan: { bootloader: 0, tee: 0, snp: 0, microcode: 0 } },
                },
              }
            : {}),
        },
      },
      keyPolicy: { rotationIntervalSeconds: 3600, overlapSeconds: 600, lifetimeSeconds: 7200 },
    });

  it('the pinned values pass, with and without the REPORT_DATA binding', () => {
    const m = manifest(pinned);
    expect(evaluateRoleTdx(m, 'worker', claims)).toEqual([]);
    expect(evaluateRoleTdx(m, 'worker', claims, { expectedReportData: claims.body.reportData })).toEqual([]);
    expect(codes(evaluateRoleTdx(m, 'worker', claims, { expectedReportData: new Uint8Array(64) }))).toEqual([
      'report_data_mismatch',
    ]);
  });

  it.each([
    ['mrTd', { mrTd: ['00'.repeat(48)] }, 'mrtd_not_allowed'],
    ['rtmr2', { rtmr2: ['00'.repeat(48)] }, 'rtmr_not_allowed'],
    ['mrSeam', { mrSeam: ['00'.repeat(48)] }, 'mr_seam_not_allowed'],
    ['mrOwner', { mrOwner: '01'.repeat(48) }, 'td_config_mismatch'],
    ['xfam', { xfam: ['0300000000000000'] }, 'xfam_not_allowed'],
    ['minimumTeeTcbSvn', { minimumTeeTcbSvn: `07${'00'.repeat(15)}` }, 'tee_tcb_svn_below_minimum'],
    [
      'tdAttributesRequired (PKS, bit 30)',
      { tdAttributesRequired: '0000005000000000' },
      'td_attributes_not_allowed',
    ],
    [
      'tdAttributesAllowed (none)',
      { tdAttributesAllowed: '0000000000000000', tdAttributesRequired: '0000000000000000' },
      'td_attributes_not_allowed',
    ],
    ['tcbStatuses (OutOfDate only)', { tcbStatuses: ['OutOfDate'] }, 'tcb_status_not_allowed'],
  ] as [string, Partial<TdxReferenceValues>, string][])(
    '%s broken → its violation',
    (_what, change, code) => {
      expect(codes(evaluateTdx(claims, { ...pinned, ...change }))).toEqual([code]);
    },
  );

  it('DEBUG is refused whatever the attribute masks say', () => {
    const body = { ...claims.body, tdAttributes: claims.body.tdAttributes.slice() };
    body.tdAttributes[0]! |= 1;
    const r = evaluateTdx({ ...claims, body }, { ...pinned, tdAttributesAllowed: 'ff'.repeat(8) });
    expect(codes(r)).toEqual(['debug_not_allowed']);
  });

  it('advisories must be allowed by name; the default allows none', () => {
    const tcb = { ...claims.tcb, status: 'SWHardeningNeeded' as const, advisoryIds: ['INTEL-SA-00615'] };
    const c = { ...claims, tcb };
    expect(codes(evaluateTdx(c, { ...pinned, tcbStatuses: ['UpToDate', 'SWHardeningNeeded'] }))).toEqual([
      'tcb_status_not_allowed',
    ]);
    expect(
      evaluateTdx(c, {
        ...pinned,
        tcbStatuses: ['UpToDate', 'SWHardeningNeeded'],
        advisoryIds: ['INTEL-SA-00615'],
      }),
    ).toEqual([]);
  });

  it('a role without tdx refuses TDX evidence; an unknown role is role_unknown', () => {
    const snpOnly = parseManifest({
      ...JSON.parse(JSON.stringify(manifest(pinned, true))),
      roles: { worker: { snp: manifest(pinned, true).roles.worker!.snp } },
    });
    expect(codes(evaluateRoleTdx(snpOnly, 'worker', claims))).toEqual(['tee_not_allowed']);
    expect(codes(evaluateRoleTdx(manifest(pinned), 'attestation-service', claims))).toEqual(['role_unknown']);
    expect(evaluateRoleTdx(manifest(pinned, true), 'worker', claims)).toEqual([]);
  });

  it('the parser refuses bad tdx values', () => {
    for (const bad of [
      { mrTd: [] },
      { mrTd: ['AB'.repeat(48)] },
      { ...pinned, xfam: ['00'] },
      { ...pinned, tcbStatuses: ['Fine'] },
      { ...pinned, advisoryIds: ['SA-1'] },
      { ...pinned, debug: true },
    ]) {
      expect(() => manifest(bad as TdxReferenceValues)).toThrow(/invalid|manifest/i);
    }
  });
});
