/**
 * Stage 2 (verification: signatures, chain, binding) of parse → verify → evaluate.
 * SEV-SNP: `verifySnpEvidence`; the pieces are exported for tests, the CLI and the simulator.
 */
export {
  AMD_INTERMEDIATES,
  AMD_ROOTS,
  type AmdIntermediate,
  type AmdRoot,
  amdIntermediateBySha256,
  amdRootBySha256,
  checkTrustAnchors,
  type TrustAnchor,
} from './amd-roots.js';
export {
  amdLeafIdentity,
  isIssuedBy,
  type ParsedCertificate,
  parseCertificate,
  splitCertChain,
} from './certificates.js';
export {
  type ChainCache,
  chainCacheKey,
  createChainCache,
  DEFAULT_CHAIN_CACHE_ENTRIES,
  type VerifiedUpperChain,
} from './chain-cache.js';
export {
  type CertificateCache,
  certChainUrl,
  KDS_BASE_URL,
  KDS_DEFAULT_TTL_SECONDS,
  type KdsFetcher,
  type KdsOptions,
  kdsCacheKey,
  type ResponseLike,
  vcekUrl,
} from './kds.js';
export { type BindingInput, checkBinding } from './verify-binding.js';
export { type ChainInput, type ChainResult, verifyChain } from './verify-chain.js';
export { importLeafKey, verifyReportSignature } from './verify-report-signature.js';
export { type SnpEvidenceInput, type SnpVerification, verifySnpEvidence } from './verify-snp.js';
export { VIOLATION_CODES, type Violation, type ViolationCode, violation } from './violations.js';
