/**
 * Stage 3 of parse → verify → evaluate for Intel TDX: verified claims (`TdxClaims`, whose quote,
 * PCK chain, collateral and CRLs stage 2 has checked) against a role's `tdx` reference values.
 * Every rule runs and every failure is a `Violation`; nothing is thrown for a failed rule.
 *
 * Offsets are the TD Quote Body's (Intel TDX DCAP Quote Library API, A.3.2). TDATTRIBUTES bits:
 * Intel TDX Module ABI spec, "TD Attributes": bit 0 DEBUG, bit 28 SEPT_VE_DISABLE, others by policy.
 */
import { constantTimeEqual, fromHex, toHex } from '../bytes.js';
import type { TcbStatus } from '../verify/tdx/tcb-info.js';
import { checkTcbStatus } from '../verify/tdx/tcb-status.js';
import type { TdxClaims } from '../verify/tdx/tdx-claims.js';
import { type Violation, type ViolationCode, violation } from '../verify/violations.js';
import { type EvaluateOptions, expectedReportDataOf } from './evaluate-options.js';
import { evaluateEventDigests } from './evaluate-tdx-events.js';
import type { TdxReferenceValues } from './manifest-types.js';

/** What an absent optional member means: the strict choice. */
export const TDX_DEFAULTS = Object.freeze({
  /** SEPT_VE_DISABLE (bit 28) only, as the 8 quote bytes (little-endian). */
  tdAttributesAllowed: '0000001000000000',
  tdAttributesRequired: '0000001000000000',
  tcbStatuses: Object.freeze(['UpToDate']) as readonly TcbStatus[],
  advisoryIds: Object.freeze([]) as readonly string[],
});

function oneOf(
  out: Violation[],
  code: ViolationCode,
  field: string,
  actual: Uint8Array,
  allowed: readonly string[] | undefined,
): void {
  if (allowed === undefined) return;
  const a = toHex(actual);
  if (!allowed.includes(a))
    out.push(
      violation(code, `${field} is not an allowed value`, { field, expected: [...allowed], actual: a }),
    );
}

function exact(out: Violation[], field: string, actual: Uint8Array, expected: string | undefined): void {
  if (expected === undefined || constantTimeEqual(actual, fromHex(expected))) return;
  out.push(violation('td_config_mismatch', `${field} differs`, { field, expected, actual: toHex(actual) }));
}

function attributes(out: Violation[], actual: Uint8Array, ref: TdxReferenceValues): void {
  // Bit 0 of byte 0 is DEBUG: a debug TD's memory and CPU state are open to the host.
  if ((actual[0]! & 1) !== 0) {
    out.push(
      violation('debug_not_allowed', 'TDATTRIBUTES.DEBUG is set', {
        field: 'tdAttributes',
        actual: toHex(actual),
      }),
    );
  }
  const allowed = fromHex(ref.tdAttributesAllowed ?? TDX_DEFAULTS.tdAttributesAllowed);
  const required = fromHex(ref.tdAttributesRequired ?? TDX_DEFAULTS.tdAttributesRequired);
  const extra: string[] = [];
  const missing: string[] = [];
  for (let i = 0; i < 8; i++) {
    for (let b = 0; b < 8; b++) {
      const bit = 1 << b;
      const n = i * 8 + b;
      if (n === 0) continue; // DEBUG: reported above, whatever the mask says
      if (actual[i]! & bit && !(allowed[i]! & bit)) extra.push(`bit ${n}`);
      if (required[i]! & bit && !(actual[i]! & bit)) missing.push(`bit ${n}`);
    }
  }
  if (extra.length > 0 || missing.length > 0) {
    const parts = [
      extra.length ? `set but not allowed: ${extra.join(', ')}` : '',
      missing.length ? `required but clear: ${missing.join(', ')}` : '',
    ];
    out.push(
      violation('td_attributes_not_allowed', `TDATTRIBUTES ${parts.filter(Boolean).join('; ')}`, {
        field: 'tdAttributes',
        actual: toHex(actual),
      }),
    );
  }
}

export function evaluateTdx(
  claims: TdxClaims,
  ref: TdxReferenceValues,
  opts: EvaluateOptions = {},
): Violation[] {
  const expectedReportData = expectedReportDataOf(opts);
  const out: Violation[] = [];
  const b = claims.body;
  oneOf(out, 'mrtd_not_allowed', 'mrTd', b.mrTd, ref.mrTd);
  const rtmrRefs = [ref.rtmr0, ref.rtmr1, ref.rtmr2, ref.rtmr3];
  for (let i = 0; i < 4; i++) oneOf(out, 'rtmr_not_allowed', `rtmr${i}`, b.rtmrs[i]!, rtmrRefs[i]);
  oneOf(out, 'mr_seam_not_allowed', 'mrSeam', b.mrSeam, ref.mrSeam);
  exact(out, 'mrConfigId', b.mrConfigId, ref.mrConfigId);
  exact(out, 'mrOwner', b.mrOwner, ref.mrOwner);
  exact(out, 'mrOwnerConfig', b.mrOwnerConfig, ref.mrOwnerConfig);
  attributes(out, b.tdAttributes, ref);
  oneOf(out, 'xfam_not_allowed', 'xfam', b.xfam, ref.xfam);
  if (ref.minimumTeeTcbSvn !== undefined) {
    const min = fromHex(ref.minimumTeeTcbSvn);
    const low = [...min].map((m, i) => (b.teeTcbSvn[i]! < m ? i : -1)).filter((i) => i >= 0);
    if (low.length > 0) {
      out.push(
        violation('tee_tcb_svn_below_minimum', `TEE_TCB_SVN below the minimum at byte ${low.join(', ')}`, {
          field: 'teeTcbSvn',
          expected: ref.minimumTeeTcbSvn,
          actual: toHex(b.teeTcbSvn),
        }),
      );
    }
  }
  out.push(
    ...checkTcbStatus(
      claims.tcb,
      ref.tcbStatuses ?? TDX_DEFAULTS.tcbStatuses,
      ref.advisoryIds ?? TDX_DEFAULTS.advisoryIds,
    ),
  );
  evaluateEventDigests(claims.eventLog, ref.eventDigests, out);
  if (expectedReportData !== undefined && !constantTimeEqual(b.reportData, expectedReportData)) {
    out.push(
      violation('report_data_mismatch', 'REPORT_DATA differs from the expected binding', {
        field: 'reportData',
        expected: toHex(expectedReportData),
        actual: toHex(b.reportData),
      }),
    );
  }
  return out;
}
