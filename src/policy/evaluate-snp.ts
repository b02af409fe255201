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
import { SealgateError } from '../errors.js';
import type { SnpClaims, TcbVersion } from '../evidence/snp/types.js';
import { type Violation, type ViolationCode, violation } from '../verify/violations.js';
import type { SnpAllowedSigningKey, SnpReferenceValues, SnpTcbMinimum } from './manifest-types.js';

export interface EvaluateOptions {
  /**
   * The 64 bytes REPORT_DATA must equal (the binding of nonce, manifest digest and keys).
   * Optional only so the rules can be exercised alone: every production caller passes it, since
   * without it a replayed report is indistinguishable from a fresh one.
   */
  expectedReportData?: Uint8Array;
}

/** What an absent optional member of the reference values means. Each is the strict choice. */
export const SNP_DEFAULTS = Object.freeze({
  signingKeys: Object.freeze(['vcek']) as readonly SnpAllowedSigningKey[],
  vmpl: 0,
  allowDebug: false,
  allowMigrationAgent: false,
  allowSmt: false,
  requireSingleSocket: false,
  minAbi: Object.freeze({ major: 0, minor: 0 }),
});

const TCB_COMPONENTS = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const;

export function evaluateSnp(
  claims: SnpClaims,
  ref: SnpReferenceValues,
  opts: EvaluateOptions = {},
): Violation[] {
  const { expectedReportData } = opts;
  if (expectedReportData !== undefined && expectedReportData.length !== 64) {
    throw new SealgateError(
      'invalid_argument',
      `expectedReportData: expected 64 bytes, got ${expectedReportData.length}`,
    );
  }
  const out: Violation[] = [];
  const r = claims.report;
  const policy = { ...SNP_DEFAULTS, ...ref.policy };

  // Product: the role accepts exactly the products it has a minimum TCB for.
  const minTcb = ref.minimumTcb[claims.product];
  if (minTcb === undefined) {
    out.push(
      violation('product_not_allowed', `product ${claims.product} is not accepted for this role`, {
        field: 'product',
        expected: Object.keys(ref.minimumTcb),
        actual: claims.product,
      }),
    );
  }

  // SIGNING_KEY (0x048 bits 4:2): VLEK means trusting the cloud provider's key handling.
  const signingKeys = ref.signingKeys ?? SNP_DEFAULTS.signingKeys;
  if (!signingKeys.includes(claims.signingKey)) {
    out.push(
      violation('signing_key_not_allowed', `report signed by ${claims.signingKey}, not allowed`, {
        field: 'signingKey',
        expected: [...signingKeys],
        actual: claims.signingKey,
      }),
    );
  }

  // MEASUREMENT (0x090).
  if (!oneOf(r.measurement, ref.measurements)) {
    out.push(
      violation('measurement_not_allowed', 'launch measurement is not one the manifest allows', {
        field: 'measurement',
        expected: [...ref.measurements],
        actual: toHex(r.measurement),
      }),
    );
  }

  // REPORT_DATA (0x050).
  if (expectedReportData !== undefined && !constantTimeEqual(r.reportData, expectedReportData)) {
    out.push(
      violation('report_data_mismatch', 'REPORT_DATA does not bind the expected nonce and keys', {
        field: 'reportData',
        expected: toHex(expectedReportData),
        actual: toHex(r.reportData),
      }),
    );
  }

  exact(out, 'host_data_mismatch', 'hostData', 'HOST_DATA', r.hostData, ref.hostData);

  // GUEST_POLICY (0x008), Table 9: the report may permit no more than the manifest does.
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

  // REPORTED_TCB (0x180) is what the VCEK is issued for; LAUNCH_TCB (0x1F0) what the guest started on.
  if (minTcb) tcbAtLeast(out, 'tcb_below_minimum', 'reportedTcb', claims.reportedTcb, minTcb);
  const minLaunch = ref.minimumLaunchTcb?.[claims.product];
  if (minLaunch) tcbAtLeast(out, 'launch_tcb_below_minimum', 'launchTcb', claims.launchTcb, minLaunch);

  // VMPL (0x030): exactly one privilege level speaks for a role (see docs/manifest.md).
  const vmpl = ref.vmpl ?? SNP_DEFAULTS.vmpl;
  if (r.vmpl !== vmpl) {
    out.push(
      violation('vmpl_not_allowed', `report requested at VMPL ${r.vmpl}, expected ${vmpl}`, {
        field: 'vmpl',
        expected: vmpl,
        actual: r.vmpl,
      }),
    );
  }

  // GUEST_SVN (0x004), from the ID block.
  if (ref.minimumGuestSvn !== undefined && r.guestSvn < ref.minimumGuestSvn) {
    out.push(
      violation('guest_svn_below_minimum', `GUEST_SVN ${r.guestSvn} is below ${ref.minimumGuestSvn}`, {
        field: 'guestSvn',
        expected: ref.minimumGuestSvn,
        actual: r.guestSvn,
      }),
    );
  }

  // ID_KEY_DIGEST (0x0E0): the key that signed the ID block.
  if (ref.idKeyDigests !== undefined && !oneOf(r.idKeyDigest, ref.idKeyDigests)) {
    out.push(
      violation('id_key_not_allowed', 'ID block was not signed by an allowed ID key', {
        field: 'idKeyDigest',
        expected: [...ref.idKeyDigests],
        actual: toHex(r.idKeyDigest),
      }),
    );
  }

  // AUTHOR_KEY_DIGEST (0x110) means something only when AUTHOR_KEY_EN (0x048 bit 0) is 1;
  // otherwise the field is zero and no author key endorsed the ID key.
  if (ref.authorKeyDigests !== undefined) {
    if (!r.authorKeyEn) {
      out.push(
        violation('author_key_not_allowed', 'AUTHOR_KEY_EN is 0: no author key signed the ID key', {
          field: 'authorKeyEn',
          expected: true,
          actual: false,
        }),
      );
    } else if (!oneOf(r.authorKeyDigest, ref.authorKeyDigests)) {
      out.push(
        violation('author_key_not_allowed', 'ID key was not signed by an allowed author key', {
          field: 'authorKeyDigest',
          expected: [...ref.authorKeyDigests],
          actual: toHex(r.authorKeyDigest),
        }),
      );
    }
  }

  // CHIP_ID (0x1A0): zero when MASK_CHIP_ID is set or the report is VLEK-signed, so never allowed then.
  if (ref.chipIds !== undefined && !oneOf(r.chipId, ref.chipIds)) {
    out.push(
      violation('chip_id_not_allowed', 'CHIP_ID is not one of the allowed chips', {
        field: 'chipId',
        expected: [...ref.chipIds],
        actual: toHex(r.chipId),
      }),
    );
  }

  exact(out, 'family_id_mismatch', 'familyId', 'FAMILY_ID', r.familyId, ref.familyId);
  exact(out, 'image_id_mismatch', 'imageId', 'IMAGE_ID', r.imageId, ref.imageId);
  return out;
}

/** Constant-time membership: every candidate is compared, whatever matched before. */
function oneOf(actual: Uint8Array, allowedHex: readonly string[]): boolean {
  let hit = 0;
  for (const h of allowedHex) hit |= constantTimeEqual(actual, fromHex(h)) ? 1 : 0;
  return hit === 1;
}

function exact(
  out: Violation[],
  code: ViolationCode,
  field: string,
  name: string,
  actual: Uint8Array,
  expectedHex: string | undefined,
): void {
  if (expectedHex === undefined) return;
  if (!constantTimeEqual(actual, fromHex(expectedHex))) {
    out.push(violation(code, `${name} differs`, { field, expected: expectedHex, actual: toHex(actual) }));
  }
}

/** One violation per component below its minimum; `fmc` only where the minimum has one (Turin). */
function tcbAtLeast(
  out: Violation[],
  code: ViolationCode,
  prefix: string,
  tcb: TcbVersion,
  min: SnpTcbMinimum,
): void {
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
}
