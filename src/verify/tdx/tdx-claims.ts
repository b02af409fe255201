/**
 * What verification establishes about a TD (stage 2 → stage 3): the quote's body, signed by an
 * attestation key that Intel's QE certified under a PCK chain to the SGX Root CA, with collateral
 * authenticated at `verifiedAt`, and the TCB status Intel's algorithm gives. Policy (the
 * manifest's `tdx` reference values, allowed statuses and advisories) judges these.
 */
import type { CcEventLog } from '../../evidence/tdx/event-log/types.js';
import type { TdReportBody, TdxBodyType } from '../../evidence/tdx/types.js';
import type { TcbEvaluation } from './tcb-status.js';

export interface TdxClaims {
  tee: 'tdx';
  quoteVersion: 4 | 5;
  bodyType: TdxBodyType;
  body: TdReportBody;
  tcb: TcbEvaluation;
  /** FMSPC and PCE-ID of the platform (PCK certificate), lower-case hex. */
  fmspc: string;
  pceId: string;
  /** SHA-256 of the PCK leaf and of the root, lower-case hex. */
  pckSha256: string;
  rootSha256: string;
  tcbEvaluationDataNumber: number;
  verifiedAt: string;
  /** The CC event log, present only when one was supplied and its replay gave the quote's RTMR0..3. */
  eventLog?: CcEventLog;
}
