/**
 * The whole Intel TDX decision in one call, as verify-snp-attestation.ts is for SEV-SNP: the role
 * must accept TDX at all (else `tee_not_allowed`, before any fetch), then collateral — the bundle's,
 * or fetched from the verifier's PCS/PCCS (src/verify/tdx/pcs.ts) — then verify (quote and QE
 * signatures, PCK chain, collateral and CRLs, all to an SGX root the manifest trusts:
 * `trustAnchors.tdx`, default Intel's), then evaluate the role's `tdx` reference values with
 * REPORT_DATA bound exactly. Policy runs only on claims whose chain verified.
 */
import { checkTeeAllowed, evaluateRoleTdx } from '../policy/evaluate-role.js';
import type { Manifest } from '../policy/manifest-types.js';
import { tdxRootsOf } from '../policy/trust-anchors.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import type { TdxCollateral } from '../verify/tdx/collateral.js';
import { fetchCollateral, type PcsOptions } from '../verify/tdx/pcs.js';
import type { TdxClaims } from '../verify/tdx/tdx-claims.js';
import type { TdxVerifyCache } from '../verify/tdx/verify-cache.js';
import { verifyTdxEvidence } from '../verify/tdx/verify-tdx.js';
import { type Violation, violation } from '../verify/violations.js';

export interface TdxAttestationInput {
  quote: Uint8Array;
  /** The bundle's collateral, when it carries one: verified like any other. */
  collateral?: TdxCollateral;
  /** Where to fetch collateral when the bundle has none. Absent: none is fetched (`collateral_unavailable`). */
  pcs?: PcsOptions;
  manifest: Manifest;
  role: string;
  /** When given, REPORT_DATA must equal it exactly. */
  expectedReportData?: Uint8Array;
  now: Date;
  /** Signature checks (src/verify/signature-backend.ts); default WebCrypto, Node passes node:crypto. */
  signatures?: SignatureBackend;
  /** Verified Intel chains, collateral and CRLs across calls (verify-cache.ts); the caller keeps one. */
  cache?: TdxVerifyCache;
}

export interface TdxAttestationVerdict {
  verdict: 'trusted' | 'rejected';
  violations: Violation[];
  /** Verified claims (null when the crypto path failed). */
  claims: TdxClaims | null;
}

async function collateralFor(
  input: TdxAttestationInput,
  roots: readonly string[],
): Promise<TdxCollateral | Violation> {
  if (input.collateral) return input.collateral;
  if (!input.pcs) {
    return violation(
      'collateral_unavailable',
      'the bundle carries no TDX collateral and no PCS is configured',
      { field: 'collateral' },
    );
  }
  const fetched = await fetchCollateral({ ...input.pcs, roots }, input.quote, input.now);
  if (!fetched.ok) {
    const code = fetched.reason === 'unavailable' ? 'collateral_unavailable' : 'collateral_malformed';
    return violation(code, `TDX collateral: ${fetched.error}`, { field: 'collateral' });
  }
  return fetched.collateral;
}

export async function verifyTdxAttestation(input: TdxAttestationInput): Promise<TdxAttestationVerdict> {
  const refused = checkTeeAllowed(input.manifest, input.role, 'tdx');
  if (refused.length > 0) return { verdict: 'rejected', violations: refused, claims: null };
  const roots = tdxRootsOf(input.manifest);
  const collateral = await collateralFor(input, roots);
  if (!('tcbInfo' in collateral)) return { verdict: 'rejected', violations: [collateral], claims: null };
  const verified = await verifyTdxEvidence({
    quote: input.quote,
    collateral,
    now: input.now,
    roots,
    ...(input.signatures ? { signatures: input.signatures } : {}),
    ...(input.cache ? { cache: input.cache } : {}),
  });
  const violations = [...verified.violations];
  if (verified.claims) {
    violations.push(
      ...evaluateRoleTdx(input.manifest, input.role, verified.claims, {
        ...(input.expectedReportData ? { expectedReportData: input.expectedReportData } : {}),
      }),
    );
  }
  return {
    verdict: violations.length === 0 && verified.claims ? 'trusted' : 'rejected',
    violations,
    claims: verified.claims,
  };
}
