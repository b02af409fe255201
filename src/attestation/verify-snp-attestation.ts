/**
 * The whole SEV-SNP decision in one call: parse → verify (signatures, chain to a root the manifest
 * trusts, certificate bound to the report) → evaluate (every reference value of the manifest for
 * the role). Policy is evaluated only on claims whose signature chain verified: rules applied to
 * unauthenticated bytes would only describe what an attacker chose to write.
 */
import type { SnpClaims, SnpReport } from '../evidence/snp/types.js';
import { evaluateRole } from '../policy/evaluate-role.js';
import type { Manifest } from '../policy/manifest-types.js';
import type { ChainCache } from '../verify/chain-cache.js';
import type { KdsOptions } from '../verify/kds.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import { verifySnpEvidence } from '../verify/verify-snp.js';
import type { Violation } from '../verify/violations.js';

export interface AttestationVerdict {
  verdict: 'trusted' | 'rejected';
  /** Every finding; empty exactly when the verdict is `trusted`. */
  violations: Violation[];
  /** Verified claims (null when the crypto path failed). */
  claims: SnpClaims | null;
  /** The parsed report whenever it parsed, for diagnostics. */
  report: SnpReport | null;
}

export interface SnpAttestationInput {
  report: Uint8Array;
  leaf?: Uint8Array;
  chain?: Uint8Array[];
  manifest: Manifest;
  role: string;
  /** When given, REPORT_DATA must equal it exactly. */
  expectedReportData?: Uint8Array;
  now: Date;
  kds?: KdsOptions;
  /** Verified AMD upper chains (src/verify/chain-cache.ts); the caller keeps one per isolate/process. */
  chainCache?: ChainCache;
  /** Signature checks (src/verify/signature-backend.ts); default WebCrypto, Node passes node:crypto. */
  signatures?: SignatureBackend;
}

export async function verifySnpAttestation(input: SnpAttestationInput): Promise<AttestationVerdict> {
  const verified = await verifySnpEvidence({
    report: input.report,
    ...(input.leaf ? { leaf: input.leaf } : {}),
    ...(input.chain ? { chain: input.chain } : {}),
    trustAnchors: input.manifest.trustAnchors.snp,
    now: input.now,
    ...(input.kds ? { kds: input.kds } : {}),
    ...(input.chainCache ? { chainCache: input.chainCache } : {}),
    ...(input.signatures ? { signatures: input.signatures } : {}),
  });
  const violations = [...verified.violations];
  if (verified.claims) {
    violations.push(
      ...evaluateRole(input.manifest, input.role, verified.claims, {
        ...(input.expectedReportData ? { expectedReportData: input.expectedReportData } : {}),
      }),
    );
  }
  return {
    verdict: violations.length === 0 && verified.claims ? 'trusted' : 'rejected',
    violations,
    claims: verified.claims,
    report: verified.report,
  };
}
