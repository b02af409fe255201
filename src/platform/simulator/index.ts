/**
 * The simulated SEV-SNP platform, for development and tests only. Everything it makes says
 * SIMULATED: the certificates' O/OU, the trust anchor (`simulated: true`), the platform object.
 * Its reports go through the real verifier; only a manifest that names this chain's root trusts them.
 */
export { type PssTrailer, pssAlgorithmIdentifier } from './amd-shapes.js';
export {
  createDevChain,
  type DevChain,
  type DevChainOptions,
  type SimulatedSigningKey,
  type SimulatedTrustAnchor,
  type SnpCertificates,
} from './dev-chain.js';
export { DEV_CHAIN_FORMAT, type DevChainJson, exportDevChain, importDevChain } from './dev-chain-json.js';
export { measurementFor } from './measurement.js';
export {
  type PlatformEvidence,
  type SimulatedLaunchConfig,
  type SimulatedReportVersion,
  SimulatedSnpPlatform,
} from './platform.js';
export { signReport, type UnsignedReportFields } from './sign-report.js';
