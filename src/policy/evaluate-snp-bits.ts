/**
 * The SEV-SNP feature bits a manifest can rule on beyond DEBUG, MIGRATE_MA, SMT and SINGLE_SOCKET:
 * GUEST_POLICY bits 21–25 (AMD pub. 56860 Table 9) and PLATFORM_INFO (Table 24). Each rule is one
 * of go-sev-guest's `validate` checks (validatePolicy, validatePlatformInfo) with the same sense:
 * an "allow" bit may be set only when allowed, a "require" bit must be set. Violations, never throws.
 *
 * PLATFORM_INFO grew with the ABI: a version-2 report (ABI ≤ 1.54) defines only SMT_EN and TSME_EN;
 * ECC_EN, RAPL_DIS and CIPHERTEXT_HIDING_EN came with the version-3 report (ABI 1.55), and
 * ALIAS_CHECK_COMPLETE with the BadRAM firmware (AMD-SB-3015), which writes version-3 reports (the
 * Genoa and AWS Milan vectors carry it); TIO_EN with ABI 1.58 (version 5). A rule that requires a
 * bit the report's version cannot carry is `platform_info_unavailable`, so a pin made on newer
 * firmware never silently "passes" older evidence, and never reads a reserved bit as a feature.
 */
import type { SnpReport } from '../evidence/snp/types.js';
import { type Violation, type ViolationCode, violation } from '../verify/violations.js';
import type { SnpGuestPolicyRules, SnpPlatformInfoRules } from './manifest-types.js';

/** The absent members' meaning. `allowSmt`'s default is the guest policy's (see evaluatePlatformInfo). */
export const SNP_FEATURE_DEFAULTS = Object.freeze({
  allowCxl: false,
  requireMemAes256Xts: false,
  requireRaplDisabled: false,
  requireCiphertextHiding: false,
  requirePageSwapDisabled: false,
  platform: Object.freeze({
    // TSME encrypts host memory with one platform key; an SNP guest's pages are encrypted with its
    // own VEK either way, so TSME_EN takes nothing from the guest. Refuse it with `allowTsme: false`.
    allowTsme: true,
    requireEcc: false,
    requireRaplDisabled: false,
    requireCiphertextHiding: false,
    requireAliasCheck: false,
    allowTio: false,
  }),
});

type Sense = 'allow' | 'require';

interface BitRule {
  sense: Sense;
  code: ViolationCode;
  field: string;
  name: string;
}

/** `setting` is the manifest's boolean: "allowed" for an allow rule, "required" for a require rule. */
function ruleViolation(rule: BitRule, on: boolean, setting: boolean): Violation[] {
  const bad = rule.sense === 'allow' ? on && !setting : setting && !on;
  if (!bad) return [];
  const what =
    rule.sense === 'allow' ? `${rule.name} is set and not allowed` : `${rule.name} is required and clear`;
  return [violation(rule.code, what, { field: rule.field, expected: !on, actual: on })];
}

type PolicyRuleKey = keyof typeof SNP_FEATURE_DEFAULTS & keyof SnpGuestPolicyRules;

/** GUEST_POLICY bits 21–25 → (rule key, report field). */
const POLICY_RULES: readonly [PolicyRuleKey, keyof SnpReport['policy'], BitRule][] = [
  ['allowCxl', 'cxlAllow', rule('allow', 'cxl_not_allowed', 'policy.cxlAllow', 'CXL_ALLOW (bit 21)')],
  [
    'requireMemAes256Xts',
    'memAes256Xts',
    rule('require', 'mem_aes_256_xts_required', 'policy.memAes256Xts', 'MEM_AES_256_XTS (bit 22)'),
  ],
  [
    'requireRaplDisabled',
    'raplDis',
    rule('require', 'rapl_disable_required', 'policy.raplDis', 'RAPL_DIS (bit 23)'),
  ],
  [
    'requireCiphertextHiding',
    'ciphertextHiding',
    rule(
      'require',
      'ciphertext_hiding_required',
      'policy.ciphertextHiding',
      'CIPHERTEXT_HIDING_DRAM (bit 24)',
    ),
  ],
  [
    'requirePageSwapDisabled',
    'pageSwapDisable',
    rule('require', 'page_swap_disable_required', 'policy.pageSwapDisable', 'PAGE_SWAP_DISABLE (bit 25)'),
  ],
];

type PlatformRuleKey = keyof SnpPlatformInfoRules;

/** PLATFORM_INFO bits → (rule key, report field, first report version that defines the bit). */
const PLATFORM_RULES: readonly [PlatformRuleKey, keyof SnpReport['platformInfo'], number, BitRule][] = [
  [
    'allowSmt',
    'smtEnabled',
    2,
    rule('allow', 'platform_smt_not_allowed', 'platformInfo.smtEnabled', 'SMT_EN (bit 0)'),
  ],
  [
    'allowTsme',
    'tsmeEnabled',
    2,
    rule('allow', 'platform_tsme_not_allowed', 'platformInfo.tsmeEnabled', 'TSME_EN (bit 1)'),
  ],
  [
    'requireEcc',
    'eccEnabled',
    3,
    rule('require', 'platform_ecc_required', 'platformInfo.eccEnabled', 'ECC_EN (bit 2)'),
  ],
  [
    'requireRaplDisabled',
    'raplDisabled',
    3,
    rule('require', 'platform_rapl_disabled_required', 'platformInfo.raplDisabled', 'RAPL_DIS (bit 3)'),
  ],
  [
    'requireCiphertextHiding',
    'ciphertextHidingEnabled',
    3,
    rule(
      'require',
      'platform_ciphertext_hiding_required',
      'platformInfo.ciphertextHidingEnabled',
      'CIPHERTEXT_HIDING_EN (bit 4)',
    ),
  ],
  [
    'requireAliasCheck',
    'aliasCheckComplete',
    3,
    rule(
      'require',
      'platform_alias_check_required',
      'platformInfo.aliasCheckComplete',
      'ALIAS_CHECK_COMPLETE (bit 5)',
    ),
  ],
  [
    'allowTio',
    'tioEnabled',
    5,
    rule('allow', 'platform_tio_not_allowed', 'platformInfo.tioEnabled', 'TIO_EN (bit 7)'),
  ],
];

function rule(sense: Sense, code: ViolationCode, field: string, name: string): BitRule {
  return { sense, code, field, name };
}

/** GUEST_POLICY bits 21–25 against the role's `policy` rules (go-sev-guest validatePolicy). */
export function evaluatePolicyFeatureBits(report: SnpReport, rules: SnpGuestPolicyRules = {}): Violation[] {
  return POLICY_RULES.flatMap(([key, bit, r]) =>
    ruleViolation(r, report.policy[bit] === true, rules[key] ?? SNP_FEATURE_DEFAULTS[key]),
  );
}

/**
 * PLATFORM_INFO against the role's `platformInfo` rules (go-sev-guest validatePlatformInfo).
 * `guestAllowsSmt` is the effective guest-policy `allowSmt`, the default for `allowSmt` here: firmware
 * already refuses to launch a guest whose policy forbids SMT on a host with SMT enabled (Table 9).
 */
export function evaluatePlatformInfo(
  report: SnpReport,
  rules: SnpPlatformInfoRules = {},
  guestAllowsSmt: boolean,
): Violation[] {
  const defaults: Required<SnpPlatformInfoRules> = {
    ...SNP_FEATURE_DEFAULTS.platform,
    allowSmt: guestAllowsSmt,
  };
  return PLATFORM_RULES.flatMap(([key, bit, since, r]) => {
    const setting = rules[key] ?? defaults[key];
    if (r.sense === 'require' && setting && report.version < since) {
      return [
        violation(
          'platform_info_unavailable',
          `${r.name} is required; a version ${report.version} report cannot carry it`,
          {
            field: r.field,
            expected: `report version >= ${since}`,
            actual: report.version,
          },
        ),
      ];
    }
    return ruleViolation(r, report.platformInfo[bit] === true, setting);
  });
}
