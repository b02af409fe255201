/**
 * The real TDX sets as verifier inputs: the quote and its collateral in the QuoteCollateralV3 shape,
 * built in memory from the split PCS files where a set has no collateral.json (never written to
 * disk), and the time each set is verified at (SOURCES.md, expected.json).
 */

import { isSealgateError } from '../../../src/errors.js';
import {
  parseCollateralJson,
  splitSignedJson,
  type TdxCollateral,
} from '../../../src/verify/tdx/collateral.js';
import { vectors } from '../../support/vectors.js';

export const v = vectors();

export const TDX_SETS = {
  'phala-v4-uptodate': { at: '2025-06-20T00:00:00Z', signer: null },
  'phala-v5-no-tcb-match': { at: '2026-03-01T00:00:00Z', signer: null },
  'trustee-v4-outofdate': { at: '2025-11-01T00:00:00Z', signer: 'intel_sgx_tcb_signing_2025-2032.pem' },
  'google-spr-e4-v4': { at: '2023-07-01T00:00:00Z', signer: 'intel_sgx_tcb_signing_2018-2025.pem' },
  'google-v5-tdx15': { at: '2026-02-03T00:00:00Z', signer: 'intel_sgx_tcb_signing_2025-2032.pem' },
} as const;
export type TdxSetName = keyof typeof TDX_SETS;

const dir = (set: string, file: string): string => `tdx/${set}/${file}`;

/** The QuoteCollateralV3 JSON text of a set: its collateral.json, or one made from the split files. */
export function collateralText(set: TdxSetName): string {
  if (v.has(dir(set, 'collateral.json'))) return v.text(dir(set, 'collateral.json'));
  const signer = TDX_SETS[set].signer!;
  const tcb = splitSignedJson(v.text(dir(set, 'tcb_info.json')), 'tcbInfo');
  const qe = splitSignedJson(v.text(dir(set, 'qe_identity.json')), 'enclaveIdentity');
  const chain = (file: string): string =>
    v.has(dir(set, file))
      ? v.text(dir(set, file))
      : v.text(`tdx/intel-roots/${signer}`) + v.text('tdx/intel-roots/intel_sgx_root_ca.pem');
  const hexOf = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  const der = (file: string): string | undefined =>
    v.has(dir(set, file)) ? hexOf(v.bytes(dir(set, file))) : undefined;
  return JSON.stringify({
    tcb_info: tcb.body,
    tcb_info_signature: hexOf(tcb.signature),
    tcb_info_issuer_chain: chain('tcb_info_issuer_chain.pem'),
    qe_identity: qe.body,
    qe_identity_signature: hexOf(qe.signature),
    qe_identity_issuer_chain: chain('qe_identity_issuer_chain.pem'),
    root_ca_crl: der('root_ca_crl.der'),
    pck_crl: der('pck_crl_platform.der'),
    pck_crl_issuer_chain: v.has(dir(set, 'pck_crl_issuer_chain.pem'))
      ? v.text(dir(set, 'pck_crl_issuer_chain.pem'))
      : undefined,
  });
}

export function loadTdx(set: TdxSetName): { quote: Uint8Array; collateral: TdxCollateral; at: Date } {
  return {
    quote: v.bytes(dir(set, 'quote.bin')),
    collateral: parseCollateralJson(collateralText(set)),
    at: new Date(TDX_SETS[set].at),
  };
}

export function codes(violations: readonly { code: string }[]): string[] {
  return [...new Set(violations.map((x) => x.code))].sort();
}

/** The closed error code a call throws, "no error", or "untyped <class>" for anything else. */
export async function errorCode(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'no error';
  } catch (e) {
    return isSealgateError(e) ? e.code : `untyped ${(e as Error).constructor.name}`;
  }
}
