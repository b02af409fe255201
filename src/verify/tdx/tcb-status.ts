/**
 * The TCB status of a TD quote, as Intel's QVL (`TcbLevelCheck`, `convergeTcbStatus*`) and
 * go-tdx-guest (`verify.go`) compute it from TCB info v3 and QE identity v2:
 *
 *   1. platform: the first TCB level (Intel lists them from newest) whose 16 SGX components are ≤
 *      the PCK certificate's, whose PCESVN is ≤ the certificate's, and whose 16 TDX components are
 *      ≤ TEE_TCB_SVN — from index 2 when TEE_TCB_SVN[1] (the TDX module's major version) is
 *      non-zero, since bytes 0–1 are then judged by the module identity;
 *   2. TDX module: MRSIGNER_SEAM and SEAM_ATTRIBUTES (under the mask) equal `tdxModule`; when
 *      TEE_TCB_SVN[1] > 0, the identity "TDX_%02X" of that version must exist, match the same way,
 *      and its first TCB level with ISVSVN ≤ TEE_TCB_SVN[0] gives the module's status;
 *   3. QE: MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES (under their masks) equal the QE identity,
 *      and its first TCB level with ISVSVN ≤ the QE's ISVSVN gives the QE's status;
 *   4. converge: a module or QE status of OutOfDate turns UpToDate/SWHardeningNeeded into OutOfDate
 *      and ConfigurationNeeded/ConfigurationAndSWHardeningNeeded into OutOfDateConfigurationNeeded;
 *      Revoked turns anything into Revoked. Advisory IDs are the union of the three levels'.
 */
import type { PckExtensions } from '../../evidence/tdx/pck-extensions.js';
import type { QeReport, TdReportBody } from '../../evidence/tdx/types.js';
import { type Violation, violation } from '../violations.js';
import type { QeIdentity } from './qe-identity.js';
import type { IsvTcbLevel, TcbInfo, TcbLevel, TcbStatus } from './tcb-info.js';

export interface LevelResult {
  status: TcbStatus;
  tcbDate: string;
  advisoryIds: string[];
}

export interface TcbEvaluation {
  status: TcbStatus;
  advisoryIds: string[];
  platform: LevelResult;
  /** Null when TEE_TCB_SVN[1] is 0 (no module identity applies). */
  tdxModule: (LevelResult & { id: string }) | null;
  qe: LevelResult;
}

function result(l: TcbLevel | IsvTcbLevel): LevelResult {
  return { status: l.tcbStatus, tcbDate: l.tcbDate.toISOString(), advisoryIds: [...l.advisoryIds] };
}

function maskedEqual(a: Uint8Array, b: Uint8Array, mask: Uint8Array): boolean {
  if (a.length !== b.length || a.length !== mask.length) return false;
  for (let i = 0; i < a.length; i++) if ((a[i]! & mask[i]!) !== (b[i]! & mask[i]!)) return false;
  return true;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function platformLevel(tcbInfo: TcbInfo, pck: PckExtensions, teeTcbSvn: Uint8Array): TcbLevel | null {
  const from = teeTcbSvn[1]! > 0 ? 2 : 0;
  return (
    tcbInfo.tcbLevels.find(
      (l) =>
        l.sgxComponents.every((svn, i) => pck.sgxTcbComponents[i]! >= svn) &&
        pck.pceSvn >= l.pceSvn &&
        l.tdxComponents.every((svn, i) => i < from || teeTcbSvn[i]! >= svn),
    ) ?? null
  );
}

function moduleLevel(
  tcbInfo: TcbInfo,
  body: TdReportBody,
  out: Violation[],
): (LevelResult & { id: string }) | null {
  const m = tcbInfo.tdxModule;
  if (
    !equal(body.mrSignerSeam, m.mrSigner) ||
    !maskedEqual(body.seamAttributes, m.attributes, m.attributesMask)
  ) {
    out.push(
      violation('tdx_module_mismatch', 'MRSIGNER_SEAM or SEAM_ATTRIBUTES differ from tcbInfo.tdxModule', {
        field: 'mrSignerSeam',
      }),
    );
  }
  const version = body.teeTcbSvn[1]!;
  if (version === 0) return null;
  const id = `TDX_${version.toString(16).toUpperCase().padStart(2, '0')}`;
  const identity = tcbInfo.tdxModuleIdentities.find((i) => i.id === id);
  if (identity === undefined) {
    out.push(
      violation('tdx_module_mismatch', `TCB info has no TDX module identity ${id}`, {
        field: 'teeTcbSvn',
        actual: id,
      }),
    );
    return null;
  }
  if (
    !equal(body.mrSignerSeam, identity.mrSigner) ||
    !maskedEqual(body.seamAttributes, identity.attributes, identity.attributesMask)
  ) {
    out.push(
      violation('tdx_module_mismatch', `MRSIGNER_SEAM or SEAM_ATTRIBUTES differ from ${id}`, {
        field: 'mrSignerSeam',
      }),
    );
  }
  const level = identity.tcbLevels.find((l) => l.isvSvn <= body.teeTcbSvn[0]!);
  if (level === undefined) {
    out.push(
      violation('tcb_level_not_found', `no ${id} TCB level for module SVN ${body.teeTcbSvn[0]}`, {
        field: 'teeTcbSvn',
      }),
    );
    return null;
  }
  return { id, ...result(level) };
}

/** MISCSELECT in PCS JSON is a big-endian hex number; in the report a little-endian u32 (read as a number). */
function u32be(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function qeLevel(identity: QeIdentity, qe: QeReport, out: Violation[]): LevelResult | null {
  const mask = u32be(identity.miscSelectMask);
  const problems: string[] = [];
  if (!equal(qe.mrSigner, identity.mrSigner)) problems.push('MRSIGNER');
  if (qe.isvProdId !== identity.isvProdId) problems.push('ISVPRODID');
  if ((qe.miscSelect & mask) >>> 0 !== (u32be(identity.miscSelect) & mask) >>> 0) problems.push('MISCSELECT');
  if (!maskedEqual(qe.attributes, identity.attributes, identity.attributesMask)) problems.push('ATTRIBUTES');
  if (problems.length > 0) {
    out.push(
      violation('qe_identity_mismatch', `the QE's ${problems.join(', ')} differ from the QE identity`, {
        field: 'qeReport',
      }),
    );
  }
  const level = identity.tcbLevels.find((l) => l.isvSvn <= qe.isvSvn);
  if (level === undefined) {
    out.push(
      violation('tcb_level_not_found', `no QE identity TCB level for ISVSVN ${qe.isvSvn}`, {
        field: 'qeReport.isvSvn',
      }),
    );
    return null;
  }
  return result(level);
}

function converge(platform: TcbStatus, other: TcbStatus | undefined): TcbStatus {
  if (other === 'Revoked') return 'Revoked';
  if (other === 'OutOfDate') {
    if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
    if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') {
      return 'OutOfDateConfigurationNeeded';
    }
  }
  return platform;
}

/** Steps 1–4; null (with violations) when a level or identity does not match. */
export function evaluateTcb(
  tcbInfo: TcbInfo,
  qeIdentity: QeIdentity,
  pck: PckExtensions,
  body: TdReportBody,
  qe: QeReport,
  out: Violation[],
): TcbEvaluation | null {
  const before = out.length;
  const level = platformLevel(tcbInfo, pck, body.teeTcbSvn);
  if (level === null) {
    out.push(
      violation(
        'tcb_level_not_found',
        'no platform TCB level of the TCB info matches the PCK certificate and TEE_TCB_SVN',
        {
          field: 'tcbLevels',
        },
      ),
    );
  }
  const tdxModule = moduleLevel(tcbInfo, body, out);
  const qeResult = qeLevel(qeIdentity, qe, out);
  if (level === null || qeResult === null || out.length > before) return null;
  const platform = result(level);
  const status = converge(converge(platform.status, tdxModule?.status), qeResult.status);
  const advisoryIds = [
    ...new Set([...platform.advisoryIds, ...(tdxModule?.advisoryIds ?? []), ...qeResult.advisoryIds]),
  ];
  return { status, advisoryIds, platform, tdxModule, qe: qeResult };
}

/** `tcb_status_not_allowed` when `status` is not allowed or an advisory ID is not (null: any advisory). */
export function checkTcbStatus(
  evaluation: Pick<TcbEvaluation, 'status' | 'advisoryIds'>,
  allowedStatuses: readonly TcbStatus[],
  allowedAdvisories: readonly string[] | null,
): Violation[] {
  const out: Violation[] = [];
  if (!allowedStatuses.includes(evaluation.status)) {
    out.push(
      violation('tcb_status_not_allowed', `TCB status ${evaluation.status} is not allowed`, {
        field: 'tcbStatus',
        expected: [...allowedStatuses],
        actual: evaluation.status,
      }),
    );
  }
  if (allowedAdvisories !== null) {
    const extra = evaluation.advisoryIds.filter((a) => !allowedAdvisories.includes(a));
    if (extra.length > 0) {
      out.push(
        violation('tcb_status_not_allowed', `advisory IDs not allowed: ${extra.join(', ')}`, {
          field: 'advisoryIds',
          expected: [...allowedAdvisories],
          actual: extra,
        }),
      );
    }
  }
  return out;
}
