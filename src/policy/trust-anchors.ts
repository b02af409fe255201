/**
 * Trust anchors: which ARK (AMD Root Key certificate) a manifest trusts, by SHA-256 of its DER.
 *
 * AMD's three ARKs are facts, pinned here so the manifest parser can tell them from anything else:
 * an anchor that is not one of them is a development root (the simulator's) and must say so with
 * `simulated: true`; an anchor that is one of them must not. Source: AMD KDS `cert_chain` files as
 * shipped by google/go-sev-guest `verify/trust/` (identical in virtee/sev and trustee), fingerprints
 * recomputed in /work/shared/testdata/SOURCES.md "amd-roots".
 */
import type { Manifest, SnpProduct, SnpTrustAnchor } from './manifest-types.js';

export const AMD_ARK_SHA256: Readonly<Record<SnpProduct, string>> = Object.freeze({
  Milan: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd',
  Genoa: '4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1',
  Turin: '1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a',
});

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

/** True when any anchor is the simulator's: everything running under this manifest says SIMULATED. */
export function manifestTrustsSimulator(manifest: Manifest): boolean {
  return manifest.trustAnchors.snp.some((a) => a.simulated === true);
}
