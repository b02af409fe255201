/**
 * TDX verification cases, runtime-neutral (the same in workerd and Node): the real phala-v4 quote
 * and its QuoteCollateralV3 collateral (read by the runner from SEALGATE_TESTDATA).
 *   tdx.verify.cold    verifyTdxEvidence with nothing cached: every chain, CRL, collateral signature
 *   tdx.verify.cached  a new quote of a known platform: Intel's chains, collateral and CRLs already
 *                      verified in this isolate (TdxVerifyCache); dates, the quote's and the QE
 *                      report's signatures, the QE binding and the TCB match still run
 */
import { fromBase64 } from '../../src/bytes.js';
import type { SignatureBackend } from '../../src/verify/signature-backend.js';
import { parseCollateralJson } from '../../src/verify/tdx/collateral.js';
import { createTdxVerifyCache } from '../../src/verify/tdx/verify-cache.js';
import { verifyTdxEvidence } from '../../src/verify/tdx/verify-tdx.js';
import type { MicroCase } from './cases.js';

export interface TdxVector {
  name: string;
  /** base64 of quote.bin */
  quote: string;
  /** collateral.json text (QuoteCollateralV3) */
  collateral: string;
  /** ISO time at which the set verifies UpToDate */
  at: string;
}

export const TDX_SET = 'phala-v4-uptodate';
export const TDX_AT = '2025-06-20T00:00:00Z';

export function tdxInputs(v: TdxVector) {
  return { quote: fromBase64(v.quote), collateral: parseCollateralJson(v.collateral), now: new Date(v.at) };
}

export async function tdxCases(v: TdxVector, signatures?: SignatureBackend): Promise<MicroCase[]> {
  const input = { ...tdxInputs(v), ...(signatures ? { signatures } : {}) };
  const cache = createTdxVerifyCache();
  const check = (r: Awaited<ReturnType<typeof verifyTdxEvidence>>) => {
    if (r.claims?.tcb.status !== 'UpToDate') throw new Error(`${v.name}: not UpToDate`);
    return r;
  };
  check(await verifyTdxEvidence({ ...input, cache }));
  return [
    {
      name: 'tdx.verify.cold',
      what: `verifyTdxEvidence on a real quote (${v.name}), nothing cached: parse, quote and QE report signatures, PCK chain, TCB info and QE identity (issuer chains, signatures), both CRLs, TCB status`,
      bytes: 0,
      run: async () => check(await verifyTdxEvidence(input)),
    },
    {
      name: 'tdx.verify.cached',
      what: `the same quote with Intel's chains, collateral and CRLs verified before in this isolate (TdxVerifyCache): parse, quote and QE report signatures, QE binding, dates, revocation lookups, TCB status`,
      bytes: 0,
      run: async () => check(await verifyTdxEvidence({ ...input, cache })),
    },
  ];
}
