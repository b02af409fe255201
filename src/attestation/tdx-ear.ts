/**
 * What an EAR (ear.ts) and the gateway's pages say about a TD beyond the shared vector: the TD's
 * measurements (MRTD, RTMR0–3, MRSEAM), the TCB status Intel's algorithm gave with its advisory
 * IDs and the TDX module identity, and the platform (FMSPC). Only from verified claims.
 */
import { toHex } from '../bytes.js';
import type { TdxClaims } from '../verify/tdx/tdx-claims.js';

export interface TdxAppraisal {
  /** Lower-case hex throughout. */
  mrTd: string;
  rtmrs: [string, string, string, string];
  mrSeam: string;
  tdAttributes: string;
  teeTcbSvn: string;
  tcbStatus: string;
  advisoryIds: string[];
  /** "TDX_01" etc., null when TEE_TCB_SVN[1] is 0. */
  tdxModule: string | null;
  fmspc: string;
  quoteVersion: number;
}

export function tdxAppraisal(c: TdxClaims): TdxAppraisal {
  const b = c.body;
  return {
    mrTd: toHex(b.mrTd),
    rtmrs: [toHex(b.rtmrs[0]), toHex(b.rtmrs[1]), toHex(b.rtmrs[2]), toHex(b.rtmrs[3])],
    mrSeam: toHex(b.mrSeam),
    tdAttributes: toHex(b.tdAttributes),
    teeTcbSvn: toHex(b.teeTcbSvn),
    tcbStatus: c.tcb.status,
    advisoryIds: [...c.tcb.advisoryIds],
    tdxModule: c.tcb.tdxModule?.id ?? null,
    fmspc: c.fmspc,
    quoteVersion: c.quoteVersion,
  };
}
