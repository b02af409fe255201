/**
 * GUEST_POLICY bits 21–25 and PLATFORM_INFO (issue #14 item 4), as go-sev-guest's validatePolicy /
 * validatePlatformInfo: every real SEV-SNP set pinned by `manifest pin` (full verification to AMD's
 * roots) still verifies its own report through parseManifest; on the simulator, a manifest pinned
 * from one launch refuses a report signed with any one bit flipped, each with its own closed code;
 * a rule requiring a bit a version-2 report cannot carry is `platform_info_unavailable`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { verifySnpAttestation } from '../../src/attestation/verify-snp-attestation.js';
import { manifestFromClaims, pinManifest } from '../../src/cli/manifest-pin.js';
import type { GuestPolicy, PlatformInfo } from '../../src/evidence/snp/types.js';
import { createDevChain, type DevChain } from '../../src/platform/simulator/dev-chain.js';
import { measurementFor } from '../../src/platform/simulator/measurement.js';
import { type SimulatedLaunchConfig, SimulatedSnpPlatform } from '../../src/platform/simulator/platform.js';
import type { Manifest } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { SNP_SETS } from '../support/vectors.js';
import { loadSet, v } from '../verify/support.js';

const NOW = new Date('2026-11-20T10:00:00Z');
const REPORT_DATA = new Uint8Array(64).fill(0x3c);
const CHAIN_TIMEOUT_MS = 180_000;
const codes = (vs: readonly { code: string }[]): string[] => vs.map((x) => x.code);
/** A manifest as a deployment reads it: JSON text through the parser. */
const reparse = (m: Manifest): Manifest => parseManifest(JSON.stringify(m));

describe.skipIf(!v.present)(`manifest pin on the real SEV-SNP sets ${v.skipReason}`, () => {
  it.each(SNP_SETS)('%s: the pinned manifest verifies its own report', async (name) => {
    const s = loadSet(name);
    const pinned = await pinManifest({
      report: s.report,
      leaf: s.leaf,
      chain: [s.chain],
      role: 'worker',
      now: s.at,
      allowDebug: true,
    });
    if (!pinned.ok) throw new Error(`pin failed: ${codes(pinned.violations)}`);
    const manifest = reparse(pinned.manifest);
    const r = await verifySnpAttestation({
      report: s.report,
      leaf: s.leaf,
      chain: [s.chain],
      manifest,
      role: 'worker',
      now: s.at,
    });
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe('trusted');
    // The pin holds what it saw: PLATFORM_INFO bits 2–5 are required only where the version has them.
    const seen = r.report!.platformInfo;
    const rules = manifest.roles.worker!.snp!.platformInfo!;
    expect(rules.allowSmt).toBe(seen.smtEnabled);
    expect(rules.requireAliasCheck).toBe(r.report!.version >= 3 && seen.aliasCheckComplete);
    expect(rules.requireEcc).toBe(r.report!.version >= 3 && seen.eccEnabled);
  });

  it('a v3 pin that requires the alias check refuses a v2 report as unavailable, not as a pass', async () => {
    const v3 = loadSet('milan-v3-vlek-aws-trustee');
    const pinned = await pinManifest({
      report: v3.report,
      leaf: v3.leaf,
      chain: [v3.chain],
      role: 'worker',
      now: v3.at,
      allowDebug: false,
    });
    if (!pinned.ok) throw new Error('pin failed');
    expect(pinned.manifest.roles.worker!.snp!.platformInfo!.requireAliasCheck).toBe(true);
    const v2 = loadSet('milan-v2-virtee');
    const pinnedV2 = await pinManifest({
      report: v2.report,
      leaf: v2.leaf,
      chain: [v2.chain],
      role: 'worker',
      now: v2.at,
      allowDebug: false,
    });
    if (!pinnedV2.ok) throw new Error('pin failed');
    // The v2 set's own reference values, with only the v3 pin's PLATFORM_INFO rules carried over.
    const ref = pinnedV2.manifest.roles.worker!.snp!;
    const manifest = reparse({
      ...pinnedV2.manifest,
      roles: {
        worker: {
          snp: {
            ...ref,
            platformInfo: { ...pinned.manifest.roles.worker!.snp!.platformInfo, allowTsme: false },
          },
        },
      },
    } as Manifest);
    const r = await verifySnpAttestation({
      report: v2.report,
      leaf: v2.leaf,
      chain: [v2.chain],
      manifest,
      role: 'worker',
      now: v2.at,
    });
    // milan-v2-virtee's PLATFORM_INFO is 0x1 (SMT only): ECC and the alias check cannot be said.
    expect(r.violations.map((x) => `${x.code}@${x.field}`)).toEqual([
      'platform_info_unavailable@platformInfo.eccEnabled',
      'platform_info_unavailable@platformInfo.aliasCheckComplete',
    ]);
  });
});

/** The baseline launch: every "allow" bit clear, every "require" bit set (SMT allowed by the guest). */
const POLICY: Partial<Omit<GuestPolicy, 'raw'>> = {
  smt: true,
  cxlAllow: false,
  memAes256Xts: true,
  raplDis: true,
  ciphertextHiding: true,
  pageSwapDisable: true,
};
const PLATFORM: Partial<Omit<PlatformInfo, 'raw'>> = {
  smtEnabled: false,
  tsmeEnabled: false,
  eccEnabled: true,
  raplDisabled: true,
  ciphertextHidingEnabled: true,
  aliasCheckComplete: true,
  tioEnabled: false,
};

/** One flipped bit → the one violation it must cause. */
const FLIPS: [string, Partial<SimulatedLaunchConfig>, string][] = [
  ['CXL_ALLOW set', { policy: { ...POLICY, cxlAllow: true } }, 'cxl_not_allowed'],
  ['MEM_AES_256_XTS clear', { policy: { ...POLICY, memAes256Xts: false } }, 'mem_aes_256_xts_required'],
  ['policy RAPL_DIS clear', { policy: { ...POLICY, raplDis: false } }, 'rapl_disable_required'],
  [
    'CIPHERTEXT_HIDING_DRAM clear',
    { policy: { ...POLICY, ciphertextHiding: false } },
    'ciphertext_hiding_required',
  ],
  [
    'PAGE_SWAP_DISABLE clear',
    { policy: { ...POLICY, pageSwapDisable: false } },
    'page_swap_disable_required',
  ],
  ['SMT_EN set', { platformInfo: { ...PLATFORM, smtEnabled: true } }, 'platform_smt_not_allowed'],
  ['TSME_EN set', { platformInfo: { ...PLATFORM, tsmeEnabled: true } }, 'platform_tsme_not_allowed'],
  ['ECC_EN clear', { platformInfo: { ...PLATFORM, eccEnabled: false } }, 'platform_ecc_required'],
  [
    'platform RAPL_DIS clear',
    { platformInfo: { ...PLATFORM, raplDisabled: false } },
    'platform_rapl_disabled_required',
  ],
  [
    'CIPHERTEXT_HIDING_EN clear',
    { platformInfo: { ...PLATFORM, ciphertextHidingEnabled: false } },
    'platform_ciphertext_hiding_required',
  ],
  [
    'ALIAS_CHECK_COMPLETE clear',
    { platformInfo: { ...PLATFORM, aliasCheckComplete: false } },
    'platform_alias_check_required',
  ],
  ['TIO_EN set', { platformInfo: { ...PLATFORM, tioEnabled: true } }, 'platform_tio_not_allowed'],
];

describe('feature bits on simulator-signed reports', () => {
  let chain: DevChain;
  let measurement: Uint8Array;
  let pinned: Manifest;

  const launch = (config: Partial<SimulatedLaunchConfig>) =>
    new SimulatedSnpPlatform(chain, {
      measurement,
      version: 5,
      policy: POLICY,
      platformInfo: PLATFORM,
      ...config,
    }).getReport(REPORT_DATA);
  const attest = async (config: Partial<SimulatedLaunchConfig>, manifest: Manifest) => {
    const e = await launch(config);
    return verifySnpAttestation({
      report: e.report,
      leaf: e.certificates.vcek,
      chain: [e.certificates.ask, e.certificates.ark],
      manifest,
      role: 'worker',
      now: NOW,
    });
  };

  beforeAll(async () => {
    chain = await createDevChain({
      product: 'Milan',
      now: NOW,
      tcb: { bootloader: 4, tee: 0, snp: 24, microcode: 217 },
    });
    measurement = await measurementFor('feature bits');
    const e = await launch({});
    const verified = await verifySnpEvidence({
      report: e.report,
      leaf: e.certificates.vcek,
      chain: [e.certificates.ask, e.certificates.ark],
      trustAnchors: [chain.trustAnchor],
      now: NOW,
    });
    pinned = reparse(
      manifestFromClaims(verified.claims!, chain.trustAnchor, { role: 'worker', allowDebug: false }).manifest,
    );
  }, CHAIN_TIMEOUT_MS);

  it('control: the pinned manifest accepts its own launch', async () => {
    expect((await attest({}, pinned)).violations).toEqual([]);
  });

  it.each(FLIPS)('%s → %s', async (_what, config, code) => {
    const r = await attest(config, pinned);
    expect(codes(r.violations)).toEqual([code]);
    expect(r.verdict).toBe('rejected');
  });

  it('a version-2 report cannot carry PLATFORM_INFO bits 2–5: each required one is unavailable', async () => {
    // Bits 2–5 are even set in the bytes: on a v2 report they are reserved, never read as features.
    const r = await attest({ version: 2 }, pinned);
    expect(r.violations.map((x) => `${x.code}@${x.field}`)).toEqual([
      'platform_info_unavailable@platformInfo.eccEnabled',
      'platform_info_unavailable@platformInfo.raplDisabled',
      'platform_info_unavailable@platformInfo.ciphertextHidingEnabled',
      'platform_info_unavailable@platformInfo.aliasCheckComplete',
    ]);
  });

  it('defaults: CXL and TIO refused, TSME allowed, host SMT as the guest policy, bits 22–25 and ECC… not required', async () => {
    const ref = pinned.roles.worker!.snp!;
    const { platformInfo: _p, ...rest } = ref;
    const policy = { allowSmt: true };
    const manifest = reparse({ ...pinned, roles: { worker: { snp: { ...rest, policy } } } } as Manifest);
    const off = { policy: { smt: true }, platformInfo: { smtEnabled: true, tsmeEnabled: true } };
    expect(codes((await attest(off, manifest)).violations)).toEqual([]);
    expect(
      codes((await attest({ ...off, policy: { smt: true, cxlAllow: true } }, manifest)).violations),
    ).toEqual(['cxl_not_allowed']);
    expect(
      codes(
        (await attest({ ...off, platformInfo: { ...off.platformInfo, tioEnabled: true } }, manifest))
          .violations,
      ),
    ).toEqual(['platform_tio_not_allowed']);
    // Host SMT follows the guest policy's allowSmt unless platformInfo says otherwise.
    const noSmt = reparse({
      ...manifest,
      roles: { worker: { snp: { ...rest, policy, platformInfo: { allowSmt: false } } } },
    } as Manifest);
    expect(codes((await attest(off, noSmt)).violations)).toEqual(['platform_smt_not_allowed']);
  });

  it('the new members are booleans and nothing else; platformInfo is a closed object', () => {
    const doc = JSON.parse(JSON.stringify(pinned));
    doc.roles.worker.snp.policy.allowCxl = 'no';
    expect(() => parseManifest(JSON.stringify(doc))).toThrow(/allowCxl/);
    doc.roles.worker.snp.policy.allowCxl = false;
    doc.roles.worker.snp.platformInfo.requireEcc = 1;
    expect(() => parseManifest(JSON.stringify(doc))).toThrow(/requireEcc/);
    doc.roles.worker.snp.platformInfo.requireEcc = true;
    doc.roles.worker.snp.platformInfo.requireIommu = true;
    expect(() => parseManifest(JSON.stringify(doc))).toThrow(/requireIommu/);
  });
});
