/**
 * The manifest and policy evaluation (stage 3 of parse → verify → evaluate).
 * Format reference: docs/manifest.md.
 */

export { evaluateRole, evaluateRoleTdx, isRoleName } from './evaluate-role.js';
export { type EvaluateOptions, evaluateSnp, SNP_DEFAULTS } from './evaluate-snp.js';
export { evaluateTdx, TDX_DEFAULTS } from './evaluate-tdx.js';
export { manifestDigest } from './manifest-digest.js';
export { LIMITS, MANIFEST_FIELDS } from './manifest-fields.js';
export * from './manifest-types.js';
export { parseManifest } from './parse-manifest.js';
export {
  AMD_ARK_SHA256,
  amdArkProduct,
  findSnpTrustAnchor,
  manifestTrustsSimulator,
} from './trust-anchors.js';
