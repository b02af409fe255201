/**
 * `sealgate verify-tdx`: one Intel TDX quote verified with its collateral (QuoteCollateralV3 JSON,
 * as Intel's PCCS and dcap-qvl write it): signatures, PCK chain, CRLs, collateral and TCB status.
 * With `--manifest` and `--role` the role's `tdx` reference values are evaluated (allowed TCB statuses
 * and advisories among them); without, the TCB status must be UpToDate. With `--event-log` (the CC
 * event log, e.g. a copy of /sys/firmware/acpi/tables/data/CCEL) the log is replayed against RTMR0..3
 * and its events listed. Exit 0 verified, 1 rejected (every violation listed; a log that does not
 * parse or replay is a violation), 2 usage or unreadable input (including a collateral file of the
 * wrong shape).
 */
import { fromHex, toHex } from '../bytes.js';
import { isSealgateError } from '../errors.js';
import { eventTypeName } from '../evidence/tdx/event-log/event-types.js';
import type { CcEventLog } from '../evidence/tdx/event-log/types.js';
import type { TdxQuote } from '../evidence/tdx/types.js';
import { nodeSignatures } from '../platform/node-signature-backend.js';
import { evaluateRoleTdx } from '../policy/evaluate-role.js';
import type { Manifest } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { parseCollateralJson, type TdxCollateral } from '../verify/tdx/collateral.js';
import { checkTcbStatus, type TcbEvaluation } from '../verify/tdx/tcb-status.js';
import { verifyTdxEvidence } from '../verify/tdx/verify-tdx.js';
import { type Violation, violation } from '../verify/violations.js';
import { parseFlags, parseInstant, UsageError } from './args.js';
import { readInput, readTextInput } from './io.js';
import type { CommandResult } from './result.js';

export const VERIFY_TDX_USAGE =
  'verify-tdx --quote FILE --collateral FILE [--event-log FILE] [--manifest FILE --role ROLE] [--report-data HEX | --any-report-data] [--at ISO-8601] [--json]';

export async function loadCollateral(path: string): Promise<TdxCollateral> {
  const text = await readTextInput('collateral', path);
  try {
    return parseCollateralJson(text);
  } catch (e) {
    if (isSealgateError(e)) throw new UsageError(`--collateral: ${path}: ${e.message}`);
    throw e;
  }
}

async function loadManifest(path: string): Promise<Manifest> {
  const text = await readTextInput('manifest', path);
  try {
    return parseManifest(text);
  } catch (e) {
    if (isSealgateError(e, 'invalid_manifest') || isSealgateError(e, 'invalid_json')) {
      const errors = (e.detail?.errors as { path: string; message: string }[] | undefined) ?? [];
      const lines = errors.map((x) => `  ${x.path || '/'}: ${x.message}`).join('\n');
      throw new UsageError(`--manifest: ${path} is not a valid manifest:\n${lines}`);
    }
    throw e;
  }
}

function reportDataFlag(hex: string | undefined): Uint8Array | undefined {
  if (hex === undefined) return undefined;
  try {
    return fromHex(hex.toLowerCase(), 64);
  } catch (e) {
    throw new UsageError(`--report-data: ${(e as Error).message} (want 128 hex characters)`);
  }
}

export function quoteJson(q: TdxQuote): Record<string, unknown> {
  const b = q.body;
  return {
    version: q.version,
    bodyType: q.bodyType,
    teeTcbSvn: toHex(b.teeTcbSvn),
    mrSeam: toHex(b.mrSeam),
    mrSignerSeam: toHex(b.mrSignerSeam),
    seamAttributes: toHex(b.seamAttributes),
    tdAttributes: toHex(b.tdAttributes),
    xfam: toHex(b.xfam),
    mrTd: toHex(b.mrTd),
    mrConfigId: toHex(b.mrConfigId),
    mrOwner: toHex(b.mrOwner),
    mrOwnerConfig: toHex(b.mrOwnerConfig),
    rtmrs: b.rtmrs.map(toHex),
    reportData: toHex(b.reportData),
    ...(b.teeTcbSvn2 ? { teeTcbSvn2: toHex(b.teeTcbSvn2) } : {}),
    ...(b.mrServiceTd ? { mrServiceTd: toHex(b.mrServiceTd) } : {}),
    trailingBytes: q.trailingBytes,
  };
}

/** The replayed log's events, for people and for `manifest` rules (`eventDigests`). */
export function eventLogJson(log: CcEventLog): Record<string, unknown>[] {
  return log.events.map((e) => ({
    seq: e.seq,
    rtmr: e.rtmr,
    eventType: eventTypeName(e.eventType) ?? `0x${e.eventType.toString(16).padStart(8, '0')}`,
    digest: toHex(e.digest),
    dataBytes: e.data.length,
  }));
}

function text(
  verdict: string,
  tcb: TcbEvaluation | null,
  fmspc: string | null,
  violations: Violation[],
  log: CcEventLog | undefined,
): string {
  const lines = [`verdict: ${verdict}`];
  if (fmspc) lines.push(`fmspc: ${fmspc}`);
  if (tcb) {
    lines.push(`tcb status: ${tcb.status}`);
    lines.push(`advisories: ${tcb.advisoryIds.length ? tcb.advisoryIds.join(', ') : 'none'}`);
  }
  if (log) lines.push(`event log: ${log.events.length} events, replayed to the quote's RTMR0..3`);
  for (const x of violations) lines.push(`violation ${x.code}: ${x.message}`);
  return `${lines.join('\n')}\n`;
}

export async function verifyTdxCommand(argv: readonly string[], now: () => Date): Promise<CommandResult> {
  const flags = parseFlags(argv, {
    values: ['quote', 'collateral', 'event-log', 'manifest', 'role', 'report-data', 'at'],
    switches: ['any-report-data', 'json'],
    required: ['quote', 'collateral'],
  });
  const v = flags.values;
  if (v['report-data'] !== undefined && flags.switches.has('any-report-data')) {
    throw new UsageError('--report-data and --any-report-data exclude each other');
  }
  if ((v.manifest === undefined) !== (v.role === undefined)) {
    throw new UsageError('--manifest and --role go together');
  }
  const at = v.at ? parseInstant('at', v.at) : now();
  const manifest = v.manifest === undefined ? null : await loadManifest(v.manifest);
  const expectedReportData = reportDataFlag(v['report-data']);
  const quote = await readInput('quote', v.quote!);
  const collateral = await loadCollateral(v.collateral!);
  const eventLog = v['event-log'] === undefined ? null : await readInput('event-log', v['event-log']);
  const r = await verifyTdxEvidence({ quote, collateral, now: at, eventLog, signatures: nodeSignatures });
  const violations = [...r.violations];
  if (manifest !== null) {
    if (r.claims !== null) {
      violations.push(
        ...evaluateRoleTdx(manifest, v.role!, r.claims, expectedReportData ? { expectedReportData } : {}),
      );
    }
  } else if (r.tcb !== null) violations.push(...checkTcbStatus(r.tcb, ['UpToDate'], null));
  if (
    manifest === null &&
    expectedReportData &&
    r.quote &&
    toHex(r.quote.body.reportData) !== toHex(expectedReportData)
  ) {
    violations.push(
      violation('report_data_mismatch', 'REPORT_DATA differs from --report-data', {
        field: 'reportData',
        expected: toHex(expectedReportData),
        actual: toHex(r.quote.body.reportData),
      }),
    );
  }
  const verdict = violations.length === 0 && r.claims !== null ? 'verified' : 'rejected';
  const fmspc = r.pck ? toHex(r.pck.fmspc) : null;
  const stdout = flags.switches.has('json')
    ? `${JSON.stringify(
        {
          verdict,
          tcbStatus: r.tcb?.status ?? null,
          advisoryIds: r.tcb?.advisoryIds ?? [],
          tcb: r.tcb,
          fmspc,
          verifiedAt: at.toISOString(),
          violations,
          quote: r.quote ? quoteJson(r.quote) : null,
          ...(r.claims?.eventLog ? { eventLog: eventLogJson(r.claims.eventLog) } : {}),
        },
        null,
        2,
      )}\n`
    : text(verdict, r.tcb, fmspc, violations, r.claims?.eventLog);
  return { stdout, exitCode: verdict === 'verified' ? 0 : 1 };
}
