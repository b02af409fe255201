/**
 * The GPU part of verifying an evidence bundle (docs/protocol.md "GPU evidence"): each GPU's
 * evidence is verified (src/verify/nvidia/verify-gpu.ts) for the nonce derived from the
 * verifier's own challenge (gpu-binding.ts), against the roots the manifest trusts, then the
 * role's `gpu` reference values are evaluated on the claims of all of them
 * (src/policy/evaluate-gpu.ts), on verified claims only — so a role that requires GPUs refuses a bundle without them
 * (`gpu_count_not_allowed`), and evidence made for an earlier challenge fails `nonce_mismatch`.
 * The digest of what was presented is what REPORT_DATA must bind (`gpus`); evidence swapped in
 * transit fails `report_data_mismatch` there. Findings are violations, never thrown.
 *
 * Revocation (docs/verification.md "GPU revocation"): every GPU's device chain (but its leaf) and
 * RIM chains go through OCSP under the role's `gpu.ocsp` policy (default "require"), always — with
 * no `ocsp` fetcher given, only "unavailable" can result, which "require" refuses
 * (`ocsp_unavailable`) and "best-effort" records as a warning in the GPU's claims.
 */

import { evaluateGpu } from '../policy/evaluate-gpu.js';
import type { Manifest } from '../policy/manifest-types.js';
import { gpuRoots } from '../policy/trust-anchors.js';
import type { DeviceChainCache } from '../verify/nvidia/device-chain-cache.js';
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';
import { DEFAULT_OCSP_POLICY, type RevocationOptions } from '../verify/nvidia/revocation.js';
import { type GpuClaims, verifyGpuEvidence } from '../verify/nvidia/verify-gpu.js';
import type { Violation } from '../verify/violations.js';
import { deriveGpuNonce, GPU_DIGEST_NAME, gpuEvidenceDigest } from './gpu-binding.js';
import type { BundleGpu } from './gpu-bundle.js';
import type { Role } from './report-data.js';

export interface BundleGpuCheck {
  violations: Violation[];
  /** What REPORT_DATA must bind for the GPUs (empty when none is presented). */
  digests: Record<string, Uint8Array>;
  /** Every GPU's verified claims, in bundle order; null when any GPU failed verification. */
  claims: GpuClaims[] | null;
}

/** Prefixes a GPU verifier's field ("chain", "request.nonce") with the GPU's place in the bundle. */
function placed(v: Violation, n: number): Violation {
  return { ...v, field: v.field === undefined ? `gpus[${n}]` : `gpus[${n}].${v.field}` };
}

export async function checkBundleGpus(input: {
  gpus: readonly BundleGpu[] | undefined;
  manifest: Manifest;
  role: Role;
  /** The verifier's challenge for the CPU evidence. */
  nonce: Uint8Array;
  now: Date;
  chainCache?: DeviceChainCache;
  /** Where OCSP answers come from (responder and cache); absent: none, so "require" refuses. */
  ocsp?: OcspFetchOptions;
}): Promise<BundleGpuCheck> {
  const gpus = input.gpus ?? [];
  const reference = input.manifest.roles[input.role]?.gpu;
  const revocation: RevocationOptions = {
    policy: reference?.ocsp ?? DEFAULT_OCSP_POLICY,
    ...(input.ocsp ? { fetch: input.ocsp } : {}),
  };
  const nonce = await deriveGpuNonce(input.nonce);
  const roots = gpuRoots(input.manifest);
  const violations: Violation[] = [];
  const claims: GpuClaims[] = [];
  for (const [n, gpu] of gpus.entries()) {
    const result = await verifyGpuEvidence({
      evidence: gpu.evidence,
      chain: gpu.chain,
      nonce,
      at: input.now,
      roots,
      ...(gpu.rims ? { rims: gpu.rims } : {}),
      ...(input.chainCache ? { chainCache: input.chainCache } : {}),
      revocation,
    });
    violations.push(...result.violations.map((v) => placed(v, n)));
    if (result.claims) claims.push(result.claims);
  }
  const verified = violations.length === 0;
  // Policy runs on verified claims only (as for the CPU: rules applied to unauthenticated bytes
  // describe what an attacker wrote). No GPU at all verifies trivially, so a role that requires
  // GPUs refuses a bundle without them here (`gpu_count_not_allowed`).
  if (verified) violations.push(...evaluateGpu(claims, reference));
  const digests: Record<string, Uint8Array> = {};
  if (gpus.length > 0) digests[GPU_DIGEST_NAME] = await gpuEvidenceDigest(gpus);
  return { violations, digests, claims: verified ? claims : null };
}
