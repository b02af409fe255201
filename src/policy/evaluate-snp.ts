/**
 * Stage 3 of parse → verify → evaluate for SEV-SNP: compare verified claims (`SnpClaims`, whose
 * signature and chain stage 2 has already checked) with a role's reference values from the
 * manifest. Every rule runs; every failure becomes a `Violation` (go-sev-guest's validate package
 * does the same). Nothing is thrown for a failed rule — only for a malformed argument.
 *
 * Field offsets cite AMD pub. 56860 (SEV-SNP Firmware ABI) Table 23 "ATTESTATION_REPORT
 * Structure"; policy bits cite Table 9 "Guest Policy Structure".
 */
import { constantTimeEqual, fromHex, toHex } from '../bytes.js';
import type { SnpClaims, TcbVersion } from '../evidence/snp/types.js';
import { type Violation, type ViolationCode, violation } from '../verify/violations.js';
import { type EvaluateOptions, expectedReportDataOf } from './evaluate-options.js';
import {
  evaluatePlatformInfo,
  evaluatePolicyFeatureBits,
  SNP_FEATURE_DEFAULTS,
} from './evaluate-snp-bits.js';
import type {
  SnpAllowedSigningKey,
  SnpGuestPolicyRules,
  SnpReferenceValues,
  SnpTcbMinimum,
} from './manifest-types.js';

/** What an absent optional member of the reference values means. Each is the strict choice. */
export const SNP_DEFAULTS = Object.freeze({
  signingKeys: Object.freeze(['vcek']) as readonly SnpAllowedSigningKey[],
  vmpl: 0,
  allowDebug: false,
  allowMigrationAgent: false,
  allowSmt: false,
  requireSingleSocket: false,
  minAbi: Object.freeze({ major: 0, minor: 0 }),
  allowCxl: SNP_FEATURE_DEFAULTS.allowCxl,
  requireMemAes256Xts: SNP_FEATURE_DEFAULTS.requireMemAes256Xts,
  requireRaplDisabled: SNP_FEATURE_DEFAULTS.requireRaplDisabled,
  requireCiphertextHiding: SNP_FEATURE_DEFAULTS.requireCiphertextHiding,
  requirePageSwapDisabled: SNP_FEATURE_DEFAULTS.requirePageSwapDisabled,
});

const TCB_COMPONENTS = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const;

/** What every check sees: the claims, the role's reference values, the policy with its defaults. */
interface SnpCheckInput {
  claims: SnpClaims;
  report: SnpClaims['report'];
  ref: SnpReferenceValues;
  policy: Required<SnpGuestPolicyRules>;
  expectedReportData: Uint8Array | undefined;
}

type SnpCheck = (input: SnpCheckInput) => Violation[];

/** The checks, in the order their violations are reported. */
const SNP_CHECKS: readonly SnpCheck[] = [
  checkProduct,
  checkSigningKey,
  checkMeasurement,
  checkReportData,
  checkHostData,
  checkGuestPolicy,
  checkPolicyFeatureBits,
  checkPlatformInfo,
  checkTcb,
  checkLaunchTcb,
  checkCertTcbNotAboveCurrent,
  checkCommittedFirmware,
  checkVmpl,
  checkGuestSvn,
  checkIdKey,
  checkAuthorKey,
  checkChipId,
  checkIdBlockIds,
];

export function evaluateSnp(
  claims: SnpClaims,
  ref: SnpReferenceValues,
  opts: EvaluateOptions = {},
): Violation[] {
  const expectedReportData = expectedReportDataOf(opts);
  const policy = { ...SNP_DEFAULTS, ...ref.policy };
  const input: SnpCheckInput = { claims, report: claims.report, ref, policy, expectedReportData };
  return SNP_CHECKS.flatMap((check) => check(input));
}

/** The role accepts exactly the products it has a minimum TCB for. */
function checkProduct({ claims, ref }: SnpCheckInput): Violation[] {
  if (ref.minimumTcb[claims.product] !== undefined) return [];
  return [
    violation('product_not_allowed', `product ${claims.product} is not accepted for this role`, {
      field: 'product',
      expected: Object.keys(ref.minimumTcb),
      actual: claims.product,
    }),
  ];
}

/** SIGNING_KEY (0x048 bits 4:2): VLEK means trusting the cloud provider's key handling. */
function checkSigningKey({ claims, ref }: SnpCheckInput): Violation[] {
  const signingKeys = ref.signingKeys ?? SNP_DEFAULTS.signingKeys;
  if (signingKeys.includes(claims.signingKey)) return [];
  return [
    violation('signing_key_not_allowed', `report signed by ${claims.signingKey}, not allowed`, {
      field: 'signingKey',
      expected: [...signingKeys],
      actual: claims.signingKey,
    }),
  ];
}

/** MEASUREMENT (0x090): one of the launch digests the manifest allows. */
function checkMeasurement({ report: r, ref }: SnpCheckInput): Violation[] {
  if (oneOf(r.measurement, ref.measurements)) return [];
  return [
    violation('measurement_not_allowed', 'launch measurement is not one the manifest allows', {
      field: 'measurement',
      expected: [...ref.measurements],
      actual: toHex(r.measurement),
    }),
  ];
}

/** REPORT_DATA (0x050): equal to the expected binding, when one is given. */
function checkReportData({ report: r, expectedReportData }: SnpCheckInput): Violation[] {
  if (expectedReportData === undefined || constantTimeEqual(r.reportData, expectedReportData)) return [];
  return [
    violation('report_data_mismatch', 'REPORT_DATA does not bind the expected nonce and keys', {
      field: 'reportData',
      expected: toHex(expectedReportData),
      actual: toHex(r.reportData),
    }),
  ];
}

/** HOST_DATA (0x0C0): equal to the manifest's, when it names one. */
function checkHostData({ report: r, ref }: SnpCheckInput): Violation[] {
  return exact('host_data_mismatch', 'hostData', 'HOST_DATA', r.hostData, ref.hostData);
}

/** GUEST_POLICY (0x008), Table 9: the report may permit no more than the manifest does. */
function checkGuestPolicy({ report: r, policy }: SnpCheckInput): Violation[] {
  const out: Violation[] = [];
  const bit = (on: boolean, allowed: boolean, code: ViolationCode, field: string, what: string): void => {
    if (on && !allowed) {
      out.push(violation(code, `guest policy allows ${what}`, { field, expected: false, actual: true }));
    }
  };
  bit(r.policy.debug, policy.allowDebug, 'debug_not_allowed', 'policy.debug', 'DEBUG (bit 19)');
  bit(
    r.policy.migrateMa,
    policy.allowMigrationAgent,
    'migration_agent_not_allowed',
    'policy.migrateMa',
    'a migration agent (MIGRATE_MA, bit 18)',
  );
  bit(r.policy.smt, policy.allowSmt, 'smt_not_allowed', 'policy.smt', 'SMT (bit 16)');
  if (policy.requireSingleSocket && !r.policy.singleSocket) {
    out.push(
      violation('single_socket_required', 'guest policy does not set SINGLE_SOCKET (bit 20)', {
        field: 'policy.singleSocket',
        expected: true,
        actual: false,
      }),
    );
  }
  const abi = { major: r.policy.abiMajor, minor: r.policy.abiMinor };
  const min = policy.minAbi;
  if (abi.major < min.major || (abi.major === min.major && abi.minor < min.minor)) {
    out.push(
      violation(
        'abi_too_old',
        `guest policy ABI ${abi.major}.${abi.minor} is below ${min.major}.${min.minor}`,
        {
          field: 'policy.abi',
          expected: `${min.major}.${min.minor}`,
          actual: `${abi.major}.${abi.minor}`,
        },
      ),
    );
  }
  return out;
}

/** GUEST_POLICY bits 21–25 (CXL_ALLOW … PAGE_SWAP_DISABLE), see evaluate-snp-bits.ts. */
function checkPolicyFeatureBits({ report: r, policy }: SnpCheckInput): Violation[] {
  return evaluatePolicyFeatureBits(r, policy);
}

/** PLATFORM_INFO (0x040), Table 24; `allowSmt` defaults to the guest policy's. */
function checkPlatformInfo({ report: r, ref, policy }: SnpCheckInput): Violation[] {
  return evaluatePlatformInfo(r, ref.platformInfo, policy.allowSmt);
}

/** REPORTED_TCB (0x180) is what the VCEK is issued for; LAUNCH_TCB (0x1F0) what the guest started on. */
function checkTcb({ claims, ref }: SnpCheckInput): Violation[] {
  const minTcb = ref.minimumTcb[claims.product];
  if (!minTcb) return [];
  // A host may report (REPORTED_TCB) or run (CURRENT_TCB) at the minimum while its COMMITTED_TCB —
  // what it can roll back to (ABI 56860 §3 "TCB version", SNP_COMMIT) — is below it: all three count.
  return [
    ...tcbAtLeast('tcb_below_minimum', 'reportedTcb', claims.reportedTcb, minTcb),
    ...tcbAtLeast('tcb_below_minimum', 'currentTcb', claims.currentTcb, minTcb),
    ...tcbAtLeast('tcb_below_minimum', 'committedTcb', claims.committedTcb, minTcb),
  ];
}

/** LAUNCH_TCB (0x1F0): at least `minimumLaunchTcb`, which defaults to `minimumTcb`. */
function checkLaunchTcb({ claims, ref }: SnpCheckInput): Violation[] {
  const min = (ref.minimumLaunchTcb ?? ref.minimumTcb)[claims.product];
  return min ? tcbAtLeast('launch_tcb_below_minimum', 'launchTcb', claims.launchTcb, min) : [];
}

/**
 * The VCEK/VLEK's TCB (its SPL extensions, which stage 2 held equal to REPORTED_TCB) does not exceed
 * CURRENT_TCB in any component: a host cannot report a TCB it does not run (go-sev-guest validate).
 */
function checkCertTcbNotAboveCurrent({ claims }: SnpCheckInput): Violation[] {
  const cert = claims.leaf.extensions.tcb;
  const out: Violation[] = [];
  for (const c of TCB_COMPONENTS) {
    const have = cert[c];
    const current = claims.currentTcb[c];
    if (have === undefined || current === undefined || have <= current) continue;
    out.push(
      violation('tcb_above_current', `VCEK/VLEK ${c} SPL ${have} exceeds CURRENT_TCB's ${current}`, {
        field: `currentTcb.${c}`,
        expected: `>= ${have}`,
        actual: current,
      }),
    );
  }
  return out;
}

/**
 * Provisional firmware: COMMITTED_TCB (0x1E0) differs from CURRENT_TCB (0x1E8) until the host
 * commits (SNP_COMMIT); until then it can roll back below what it reports. Refused unless the
 * manifest says `allowProvisionalFirmware` (go-sev-guest: PermitProvisionalFirmware, default false).
 */
function checkCommittedFirmware({ claims, report: r, ref }: SnpCheckInput): Violation[] {
  if (ref.allowProvisionalFirmware === true) return [];
  const same = TCB_COMPONENTS.every((c) => claims.committedTcb[c] === claims.currentTcb[c]);
  if (same && r.committedTcb === r.currentTcb) return [];
  return [
    violation(
      'provisional_firmware_not_allowed',
      'COMMITTED_TCB differs from CURRENT_TCB (provisional firmware)',
      {
        field: 'committedTcb',
        expected: `0x${r.currentTcb.toString(16)}`,
        actual: `0x${r.committedTcb.toString(16)}`,
      },
    ),
  ];
}

/** VMPL (0x030): exactly one privilege level speaks for a role (see docs/manifest.md). */
function checkVmpl({ report: r, ref }: SnpCheckInput): Violation[] {
  const vmpl = ref.vmpl ?? SNP_DEFAULTS.vmpl;
  if (r.vmpl === vmpl) return [];
  return [
    violation('vmpl_not_allowed', `report requested at VMPL ${r.vmpl}, expected ${vmpl}`, {
      field: 'vmpl',
      expected: vmpl,
      actual: r.vmpl,
    }),
  ];
}

/** GUEST_SVN (0x004), from the ID block: at least the manifest's minimum. */
function checkGuestSvn({ report: r, ref }: SnpCheckInput): Violation[] {
  if (ref.minimumGuestSvn === undefined || r.guestSvn >= ref.minimumGuestSvn) return [];
  return [
    violation('guest_svn_below_minimum', `GUEST_SVN ${r.guestSvn} is below ${ref.minimumGuestSvn}`, {
      field: 'guestSvn',
      expected: ref.minimumGuestSvn,
      actual: r.guestSvn,
    }),
  ];
}

/** ID_KEY_DIGEST (0x0E0): the key that signed the ID block. */
function checkIdKey({ report: r, ref }: SnpCheckInput): Violation[] {
  if (ref.idKeyDigests === undefined || oneOf(r.idKeyDigest, ref.idKeyDigests)) return [];
  return [
    violation('id_key_not_allowed', 'ID block was not signed by an allowed ID key', {
      field: 'idKeyDigest',
      expected: [...ref.idKeyDigests],
      actual: toHex(r.idKeyDigest),
    }),
  ];
}

/**
 * AUTHOR_KEY_DIGEST (0x110) means something only when AUTHOR_KEY_EN (0x048 bit 0) is 1;
 * otherwise the field is zero and no author key endorsed the ID key.
 */
function checkAuthorKey({ report: r, ref }: SnpCheckInput): Violation[] {
  if (ref.authorKeyDigests === undefined) return [];
  if (!r.authorKeyEn) {
    return [
      violation('author_key_not_allowed', 'AUTHOR_KEY_EN is 0: no author key signed the ID key', {
        field: 'authorKeyEn',
        expected: true,
        actual: false,
      }),
    ];
  }
  if (oneOf(r.authorKeyDigest, ref.authorKeyDigests)) return [];
  return [
    violation('author_key_not_allowed', 'ID key was not signed by an allowed author key', {
      field: 'authorKeyDigest',
      expected: [...ref.authorKeyDigests],
      actual: toHex(r.authorKeyDigest),
    }),
  ];
}

/** CHIP_ID (0x1A0): zero when MASK_CHIP_ID is set or the report is VLEK-signed, so never allowed then. */
function checkChipId({ report: r, ref }: SnpCheckInput): Violation[] {
  if (ref.chipIds === undefined || oneOf(r.chipId, ref.chipIds)) return [];
  return [
    violation('chip_id_not_allowed', 'CHIP_ID is not one of the allowed chips', {
      field: 'chipId',
      expected: [...ref.chipIds],
      actual: toHex(r.chipId),
    }),
  ];
}

/** FAMILY_ID (0x010) and IMAGE_ID (0x020), from the ID block: equal to the manifest's, when named. */
function checkIdBlockIds({ report: r, ref }: SnpCheckInput): Violation[] {
  return [
    ...exact('family_id_mismatch', 'familyId', 'FAMILY_ID', r.familyId, ref.familyId),
    ...exact('image_id_mismatch', 'imageId', 'IMAGE_ID', r.imageId, ref.imageId),
  ];
}

/** Constant-time membership: every candidate is compared, whatever matched before. */
function oneOf(actual: Uint8Array, allowedHex: readonly string[]): boolean {
  let hit = 0;
  for (const h of allowedHex) hit |= constantTimeEqual(actual, fromHex(h)) ? 1 : 0;
  return hit === 1;
}

function exact(
  code: ViolationCode,
  field: string,
  name: string,
  actual: Uint8Array,
  expectedHex: string | undefined,
): Violation[] {
  if (expectedHex === undefined || constantTimeEqual(actual, fromHex(expectedHex))) return [];
  return [violation(code, `${name} differs`, { field, expected: expectedHex, actual: toHex(actual) })];
}

/** One violation per component below its minimum; `fmc` only where the minimum has one (Turin). */
function tcbAtLeast(code: ViolationCode, prefix: string, tcb: TcbVersion, min: SnpTcbMinimum): Violation[] {
  const out: Violation[] = [];
  for (const c of TCB_COMPONENTS) {
    const want = min[c];
    if (want === undefined) continue;
    const got = tcb[c];
    // A Turin TCB without fmc is a stage-2 bug; fail closed rather than skip the component.
    if (got === undefined || got < want) {
      out.push(
        violation(code, `${prefix}.${c} ${got ?? 'absent'} is below ${want}`, {
          field: `${prefix}.${c}`,
          expected: want,
          actual: got ?? null,
        }),
      );
    }
  }
  return out;
}
