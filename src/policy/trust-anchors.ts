/**
 * Trust anchors: which ARK (AMD Root Key certificate) and which SGX Root CA (Intel TDX) a manifest
 * trusts, by SHA-256 of its DER.
 *
 * AMD's three ARKs are facts, pinned here so the manifest parser can tell them from anything else:
 * an anchor that is not one of them is a development root (the simulator's) and must say so with
 * `simulated: true`; an anchor that is one of them must not. The pins and their provenance are in
 * `src/verify/amd-roots.ts`.
 */
import { AMD_ROOTS } from '../verify/amd-roots.js';
import { type GpuRoots, NVIDIA_GPU_ROOTS } from '../verify/nvidia/nvidia-roots.js';
import { INTEL_SGX_ROOT_CA_SHA256 } from '../verify/tdx/intel-root.js';
import type { Manifest, SnpProduct, SnpTrustAnchor, TdxTrustAnchor } from './manifest-types.js';

/** AMD's ARK fingerprints by product: the pins live in `src/verify/amd-roots.ts`, once. */
export const AMD_ARK_SHA256: Readonly<Record<SnpProduct, string>> = Object.freeze(
  Object.fromEntries(AMD_ROOTS.map((r) => [r.product, r.sha256])) as Record<SnpProduct, string>,
);

/** The product whose AMD ARK has this fingerprint, or undefined for any other certificate. */
export function amdArkProduct(sha256: string): SnpProduct | undefined {
  for (const [product, fp] of Object.entries(AMD_ARK_SHA256)) if (fp === sha256) return product as SnpProduct;
  return undefined;
}

/**
 * The manifest's anchor for a chain's root (lower-case hex SHA-256 of the ARK DER), or undefined:
 * the verifier's `root_untrusted` check. A simulated anchor is returned as such; the caller decides
 * and must make a simulated trust path visible.
 */
export function findSnpTrustAnchor(manifest: Manifest, rootSha256: string): SnpTrustAnchor | undefined {
  return manifest.trustAnchors.snp.find((a) => a.sha256 === rootSha256);
}

/**
 * The SGX Root CAs (SHA-256 of the DER) a TD quote may chain to under this manifest: its
 * `trustAnchors.tdx` when present, else Intel's root alone. A simulated root is trusted only when the
 * manifest names it, so simulated TDX evidence never passes a manifest that does not.
 */
export function tdxRootsOf(manifest: Manifest): readonly string[] {
  return manifest.trustAnchors.tdx?.map((a) => a.sha256) ?? [INTEL_SGX_ROOT_CA_SHA256];
}

/** The manifest's TDX anchor for an SGX root (undefined for Intel's root under the default). */
export function findTdxTrustAnchor(manifest: Manifest, rootSha256: string): TdxTrustAnchor | undefined {
  return manifest.trustAnchors.tdx?.find((a) => a.sha256 === rootSha256);
}

/** True when any anchor is the simulator's: everything running under this manifest says SIMULATED. */
export function manifestTrustsSimulator(manifest: Manifest): boolean {
  return (
    manifest.trustAnchors.snp.some((a) => a.simulated === true) ||
    (manifest.trustAnchors.tdx ?? []).some((a) => a.simulated === true) ||
    (manifest.trustAnchors.nvidia ?? []).some((a) => a.simulated === true)
  );
}

/** The roots GPU evidence may chain to: `trustAnchors.nvidia` when present, else NVIDIA's. */
export function gpuRoots(manifest: Manifest): GpuRoots {
  const anchors = manifest.trustAnchors.nvidia;
  if (anchors === undefined) return NVIDIA_GPU_ROOTS;
  return {
    device: anchors.filter((a) => a.use === 'device').map((a) => a.sha256),
    rim: anchors.filter((a) => a.use === 'rim').map((a) => a.sha256),
  };
}

/** True when the GPU root `rootSha256` is one the manifest marks simulated. */
export function isSimulatedGpuRoot(manifest: Manifest, rootSha256: string): boolean {
  return (manifest.trustAnchors.nvidia ?? []).some((a) => a.sha256 === rootSha256 && a.simulated === true);
}
