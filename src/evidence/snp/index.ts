/**
 * SEV-SNP evidence, stage 1 (parse): bytes → typed values, no cryptography, no policy.
 * Verification (`src/verify`) and evaluation (`src/policy`) build on these.
 */

export { decodeCertificate, decodeCertificates } from '../../der/pem.js';
export {
  AMD_EXTENSION_OIDS,
  decodeAmdExtensions,
  encodeAmdExtensions,
  parseAmdCertExtensions,
  type RawExtension,
} from './cert-extensions.js';
export {
  CERT_TABLE_GUIDS,
  type CertTable,
  type CertTableKind,
  parseCertTable,
  serializeCertTable,
} from './cert-table.js';
export { certificateKind, kindFromSubjectCns } from './certificate.js';
export {
  OFFSET as REPORT_OFFSET,
  REPORT_SIZE,
  SIGNED_REGION_END,
  SUPPORTED_REPORT_VERSIONS,
} from './layout.js';
export { parseReport } from './parse-report.js';
export {
  decodeGuestPolicy,
  decodePlatformInfo,
  encodeGuestPolicy,
  encodePlatformInfo,
} from './policy-bits.js';
export { type Cpuid, productFromCpuid, productFromName } from './product.js';
export { type SnpReportFields, serializeReport } from './serialize-report.js';
export { reportSignatureP1363, signatureFromP1363 } from './signature.js';
export { decodeTcb, encodeTcb, TCB_COMPONENTS, type TcbComponent, tcbBelow } from './tcb.js';
export type {
  AmdCertExtensions,
  FirmwareVersion,
  GuestPolicy,
  PlatformInfo,
  SnpClaims,
  SnpProduct,
  SnpReport,
  SnpSigningKey,
  TcbVersion,
} from './types.js';
