/**
 * Findings of verification (crypto, stage 2) and evaluation (policy, stage 3). They are collected,
 * never thrown: a verdict lists every violation, each with a code from this closed set
 * (go-sev-guest's validate returns all failures; so do we). Clients of the HTTP services never see
 * these: they get one stable error code; logs, the CLI and tests get the list.
 */
export const VIOLATION_CODES = [
  // --- evidence shape ---
  /** The report bytes do not parse (size, version, non-zero reserved field). */
  'report_malformed',
  /** The report version is not one this verifier knows (2, 3, 5). */
  'report_version_unsupported',
  /** The product cannot be determined, or the report's CPUID and the certificate disagree. */
  'product_unknown',
  // --- certificates (AMD pub. 57230; RFC 5280 §6) ---
  /** A certificate does not decode, or lacks a required AMD extension. */
  'cert_malformed',
  /** No VCEK/VLEK arrived and none could be fetched. */
  'cert_missing',
  /** The ARK's SHA-256 fingerprint is not a trust anchor of the manifest. */
  'root_untrusted',
  /** A signature in leaf → ASK/ASVK → ARK does not verify, or issuer/subject do not chain. */
  'cert_chain_invalid',
  /** A certificate is outside its validity period at the time checked. */
  'cert_expired',
  /** AMD's CRL for the product (pub. 57230 §4.3) lists the ASK/ASVK or the VCEK/VLEK as revoked. */
  'cert_revoked',
  /** AMD's CRL could not be fetched, does not parse, is not signed by the ARK, or is not current. */
  'crl_invalid',
  /** The leaf's kind (VCEK/VLEK) does not match the report's SIGNING_KEY. */
  'signing_key_mismatch',
  /** The certificate's SPLs differ from the report's REPORTED_TCB. */
  'cert_tcb_mismatch',
  /** The VCEK's hwID differs from the report's CHIP_ID. */
  'cert_hwid_mismatch',
  /** The report's ECDSA P-384 signature does not verify under the leaf's key. */
  'report_signature_invalid',
  // --- policy (the manifest's reference values) ---
  'measurement_not_allowed',
  'report_data_mismatch',
  'host_data_mismatch',
  'debug_not_allowed',
  'migration_agent_not_allowed',
  'smt_not_allowed',
  'single_socket_required',
  'abi_too_old',
  'tcb_below_minimum',
  'launch_tcb_below_minimum',
  /** The VCEK/VLEK's TCB exceeds CURRENT_TCB in some component. */
  'tcb_above_current',
  /** COMMITTED_TCB differs from CURRENT_TCB and the manifest does not allow provisional firmware. */
  'provisional_firmware_not_allowed',
  'vmpl_not_allowed',
  'guest_svn_below_minimum',
  'id_key_not_allowed',
  'author_key_not_allowed',
  'chip_id_not_allowed',
  'family_id_mismatch',
  'image_id_mismatch',
  'product_not_allowed',
  'signing_key_not_allowed',
  'role_unknown',
  // --- protocol (evidence bundles, src/attestation) ---
  /** The party runs a manifest whose digest differs from the verifier's own. */
  'manifest_mismatch',
  /** The bundle answers another nonce than the one the verifier sent. */
  'nonce_mismatch',
  /** The bundle claims another role than the one being attested. */
  'role_mismatch',
] as const;

export type ViolationCode = (typeof VIOLATION_CODES)[number];

export interface Violation {
  code: ViolationCode;
  /** For people: which check, what was expected, what was seen. */
  message: string;
  /** The report or manifest field concerned, e.g. "measurement", "reportedTcb.snp". */
  field?: string;
  expected?: unknown;
  actual?: unknown;
}

export function violation(
  code: ViolationCode,
  message: string,
  extra: Omit<Violation, 'code' | 'message'> = {},
): Violation {
  return { code, message, ...extra };
}
