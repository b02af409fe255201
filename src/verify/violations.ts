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
  // --- Intel TDX evidence and collateral (docs/verification.md, "Intel TDX") ---
  /** The TDX quote does not parse (lengths, reserved bytes, key type, TEE type, body type). */
  'quote_malformed',
  /** The quote version is not 4 or 5. */
  'quote_version_unsupported',
  /** The QE vendor ID is not Intel's. */
  'qe_vendor_unknown',
  /** The quote's ECDSA P-256 signature does not verify under its attestation key. */
  'quote_signature_invalid',
  /** The QE report's signature does not verify under the PCK leaf's key. */
  'qe_report_signature_invalid',
  /** QE report_data is not SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes. */
  'qe_report_data_mismatch',
  /** A certificate is listed in an authenticated CRL. */
  'cert_revoked',
  /** A CRL is missing, does not parse, is not signed by its issuer, or its issuer does not match. */
  'crl_invalid',
  /** A CRL is outside [thisUpdate, nextUpdate] at the time checked. */
  'crl_expired',
  /** TCB info or QE identity is missing or does not decode. */
  'collateral_malformed',
  /** No collateral to verify with: the bundle carries none and no PCS/PCCS is configured or none answered. */
  'collateral_unavailable',
  /** The TCB info or QE identity signature does not verify under the TCB Signing key. */
  'collateral_signature_invalid',
  /** TCB info or QE identity is outside [issueDate, nextUpdate] at the time checked. */
  'collateral_expired',
  /** The TCB info is for another platform (FMSPC, PCE-ID) than the PCK certificate's. */
  'collateral_mismatch',
  /** The QE's MRSIGNER, ISVPRODID, MISCSELECT or ATTRIBUTES differ from the QE identity. */
  'qe_identity_mismatch',
  /** The TDX module's MRSIGNER_SEAM or SEAM attributes differ from the TCB info, or its identity is unknown. */
  'tdx_module_mismatch',
  /** No TCB level of the TCB info (platform, TDX module) or QE identity matches. */
  'tcb_level_not_found',
  /** The TCB status (or an advisory ID) is not one the verifier or the manifest allows. */
  'tcb_status_not_allowed',
  /** The CC event log does not parse (src/evidence/tdx/event-log/parse-event-log.ts). */
  'event_log_malformed',
  /** An RTMR replayed from the event log differs from the quote's. */
  'rtmr_replay_mismatch',
  // --- policy (the manifest's reference values) ---
  'measurement_not_allowed',
  'report_data_mismatch',
  'host_data_mismatch',
  'debug_not_allowed',
  'migration_agent_not_allowed',
  'smt_not_allowed',
  'single_socket_required',
  'abi_too_old',
  /** GUEST_POLICY CXL_ALLOW (bit 21) set and the manifest does not allow it. */
  'cxl_not_allowed',
  /** GUEST_POLICY MEM_AES_256_XTS (bit 22) clear and the manifest requires it. */
  'mem_aes_256_xts_required',
  /** GUEST_POLICY RAPL_DIS (bit 23) clear and the manifest requires it. */
  'rapl_disable_required',
  /** GUEST_POLICY CIPHERTEXT_HIDING_DRAM (bit 24) clear and the manifest requires it. */
  'ciphertext_hiding_required',
  /** GUEST_POLICY PAGE_SWAP_DISABLE (bit 25) clear and the manifest requires it. */
  'page_swap_disable_required',
  /** PLATFORM_INFO SMT_EN set and the manifest does not allow it. */
  'platform_smt_not_allowed',
  /** PLATFORM_INFO TSME_EN set and the manifest does not allow it. */
  'platform_tsme_not_allowed',
  /** PLATFORM_INFO ECC_EN clear and the manifest requires it. */
  'platform_ecc_required',
  /** PLATFORM_INFO RAPL_DIS clear and the manifest requires it. */
  'platform_rapl_disabled_required',
  /** PLATFORM_INFO CIPHERTEXT_HIDING_EN clear and the manifest requires it. */
  'platform_ciphertext_hiding_required',
  /** PLATFORM_INFO ALIAS_CHECK_COMPLETE clear and the manifest requires it. */
  'platform_alias_check_required',
  /** PLATFORM_INFO TIO_EN set and the manifest does not allow it. */
  'platform_tio_not_allowed',
  /** The manifest requires a PLATFORM_INFO bit the report's version does not define. */
  'platform_info_unavailable',
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
  // --- policy for Intel TDX (the manifest's `tdx` reference values) ---
  /** The role does not accept evidence of this TEE (its manifest entry has no `snp` / `tdx`). */
  'tee_not_allowed',
  'mrtd_not_allowed',
  'rtmr_not_allowed',
  'mr_seam_not_allowed',
  'td_config_mismatch',
  'td_attributes_not_allowed',
  'xfam_not_allowed',
  'tee_tcb_svn_below_minimum',
  /** The role pins event digests (`eventDigests`) and no event log that replays was supplied. */
  'event_log_missing',
  /** An event of a pinned RTMR and type is not among the allowed digests, or none is there. */
  'event_digest_not_allowed',
  // --- protocol (evidence bundles, src/attestation) ---
  /** The party runs a manifest whose digest differs from the verifier's own. */
  'manifest_mismatch',
  /** The bundle answers another nonce than the one the verifier sent. */
  'nonce_mismatch',
  /** The bundle claims another role than the one being attested. */
  'role_mismatch',
  // --- NVIDIA GPU evidence (src/evidence/nvidia, src/verify/nvidia, src/policy/evaluate-gpu.ts) ---
  /** The device chain's architecture CA is not one this verifier knows (only Hopper, GH100). */
  'gpu_architecture_unsupported',
  /** The report's FWID differs from the attestation-key certificate's FWID extension, or one lacks it. */
  'gpu_fwid_mismatch',
  /** A RIM (SWID tag) does not parse, is not for this GPU's driver/VBIOS, or is not a NVIDIA RIM. */
  'rim_malformed',
  /** A RIM's XML signature does not verify, or does not cover the whole document. */
  'rim_signature_invalid',
  /** The driver and VBIOS RIMs both claim one measurement index, or a RIM is missing. */
  'rim_conflict',
  /** An active RIM or golden measurement differs from the report's measurement at that index. */
  'gpu_measurement_mismatch',
  /** The number of GPUs is outside the role's min..max. */
  'gpu_count_not_allowed',
  /** The GPU architecture is not the role's. */
  'gpu_architecture_not_allowed',
  /** The driver version is not one the role allows. */
  'gpu_driver_not_allowed',
  /** The VBIOS version is not one the role allows. */
  'gpu_vbios_not_allowed',
  /** CC mode on without devtools is not proven: no reference measurements were compared. */
  'gpu_cc_mode_unproven',
  // --- OCSP for the NVIDIA device and RIM chains (RFC 6960; src/verify/nvidia/ocsp.ts) ---
  /** No OCSP response for a certificate whose status the policy requires (none saved, responder unreachable). */
  'ocsp_unavailable',
  /** An OCSP response does not decode, is not successful, answers another certificate, or lacks our nonce. */
  'ocsp_invalid',
  /** An OCSP response's signature does not verify, or its signer is neither the CA nor its delegated responder. */
  'ocsp_signature_invalid',
  /** An OCSP response is outside [thisUpdate, nextUpdate] at the time checked, or has no nextUpdate. */
  'ocsp_expired',
  /** The OCSP responder answered `unknown` for a certificate NVIDIA issued. */
  'ocsp_status_unknown',
  // --- worker configuration (src/attestation/worker-config.ts; docs/protocol.md) ---
  /** A worker bundle without its configuration document. */
  'config_missing',
  /** A configuration document in the bundle of a role that has none (the attestation service). */
  'config_unexpected',
  /** The configuration document is not the canonical, closed document of docs/protocol.md. */
  'config_malformed',
  /** The worker sends prompts to a model endpoint its role's `model.endpoints` does not list. */
  'model_endpoint_not_allowed',
  /** The worker sends a model API key and its role's `model.apiKey` is not `allowed`. */
  'model_api_key_not_allowed',
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
