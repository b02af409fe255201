/**
 * The Intel TDX variant of the evidence bundle (docs/protocol.md, "Evidence bundle"): in place of
 * SEV-SNP's `report` and `certificates`, `quote` (the raw TDX quote, base64url, its PCK chain
 * inside) and optionally `collateral` (Intel's collateral for it, the QuoteCollateralV3 object that
 * PCCS and `sealgate verify-tdx --collateral` use). Collateral in a bundle is a convenience, never
 * trusted: the verifier authenticates it to its manifest's SGX root exactly as collateral it fetched
 * itself, and fetches from its PCS/PCCS when the bundle has none.
 */
import { fromBase64Url, toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { isRecord } from '../json/object-guards.js';
import { parseCollateralJson, type TdxCollateral } from '../verify/tdx/collateral.js';
import { collateralJson } from '../verify/tdx/pcs.js';

/** A v4/v5 quote with a PCK chain is 4–8 KiB; room for a long chain, not for megabytes. */
export const MAX_QUOTE_BYTES = 32 * 1024;
/** TCB info, QE identity, three PEM chains and two CRLs: tens of KiB at Intel's sizes. */
const MAX_COLLATERAL_JSON = 256 * 1024;

/** The QuoteCollateralV3 members (collateral.ts), and nothing else. */
const COLLATERAL_KEYS = [
  'tcb_info',
  'tcb_info_signature',
  'tcb_info_issuer_chain',
  'qe_identity',
  'qe_identity_signature',
  'qe_identity_issuer_chain',
  'root_ca_crl',
  'pck_crl',
  'pck_crl_issuer_chain',
];

/** The bundle fields only a TDX bundle has. */
export const TDX_BUNDLE_FIELDS = ['quote'] as const;
export const TDX_BUNDLE_OPTIONAL_FIELDS = ['collateral'] as const;

export interface TdxBundleEvidence {
  platform: 'tdx';
  quote: Uint8Array;
  collateral?: TdxCollateral;
}

function fail(message: string): never {
  throw new SealgateError('malformed_evidence', `evidence bundle: ${message}`);
}

export function encodeTdxBundleEvidence(e: TdxBundleEvidence): Record<string, unknown> {
  return {
    quote: toBase64Url(e.quote),
    ...(e.collateral ? { collateral: JSON.parse(collateralJson(e.collateral)) as unknown } : {}),
  };
}

function parseQuoteField(value: unknown): Uint8Array {
  if (typeof value !== 'string') fail('quote must be a base64url string');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(value);
  } catch {
    fail('quote is not valid base64url');
  }
  if (bytes.length === 0 || bytes.length > MAX_QUOTE_BYTES)
    fail(`quote must be 1..${MAX_QUOTE_BYTES} bytes, got ${bytes.length}`);
  return bytes;
}

function parseCollateralField(value: unknown): TdxCollateral {
  if (!isRecord(value)) fail('collateral must be an object');
  for (const k of Object.keys(value)) if (!COLLATERAL_KEYS.includes(k)) fail(`unknown field collateral.${k}`);
  const text = JSON.stringify(value);
  if (text.length > MAX_COLLATERAL_JSON) fail(`collateral exceeds ${MAX_COLLATERAL_JSON} bytes`);
  try {
    return parseCollateralJson(text);
  } catch (e) {
    if (e instanceof SealgateError) fail(`collateral: ${e.message}`);
    throw e;
  }
}

/** The TDX members of a bundle object whose `platform` is "tdx" (the caller checked the rest). */
export function parseTdxBundleEvidence(json: Record<string, unknown>): TdxBundleEvidence {
  return {
    platform: 'tdx',
    quote: parseQuoteField(json.quote),
    ...(json.collateral !== undefined ? { collateral: parseCollateralField(json.collateral) } : {}),
  };
}
