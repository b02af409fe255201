/**
 * What every TEE's evaluation takes besides the claims and the reference values.
 */
import { SealgateError } from '../errors.js';

export interface EvaluateOptions {
  /**
   * The 64 bytes REPORT_DATA must equal (the binding of nonce, manifest digest and keys).
   * Optional only so the rules can be exercised alone: every production caller passes it, since
   * without it a replayed report is indistinguishable from a fresh one.
   */
  expectedReportData?: Uint8Array;
}

/** `opts.expectedReportData`, checked to be 64 bytes (SEV-SNP and TDX REPORT_DATA alike). */
export function expectedReportDataOf(opts: EvaluateOptions): Uint8Array | undefined {
  const { expectedReportData } = opts;
  if (expectedReportData !== undefined && expectedReportData.length !== 64) {
    throw new SealgateError(
      'invalid_argument',
      `expectedReportData: expected 64 bytes, got ${expectedReportData.length}`,
    );
  }
  return expectedReportData;
}
