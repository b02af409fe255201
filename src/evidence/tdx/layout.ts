/**
 * Byte layout of the Intel TDX ECDSA quote, versions 4 and 5: Intel "TDX DCAP Quote Generation
 * Library and Quote Verification Library" API spec (rev 0.9+; "TD Quote Format", Appendix A):
 * A.3 Quote Header, A.3.2 TD Quote Body (TDX 1.0) / TD Quote Body v1.5, A.3.3 v5 Quote Body
 * Descriptor, A.4 Quote Signature Data, A.4.1 ECDSA 256-bit Quote Signature Data Structure,
 * A.4.2 Certification Data, A.4.3 QE Report Certification Data, A.4.4 QE Authentication Data,
 * A.4.5 SGX Report Body. Offsets are in the spec's hex, relative to the start of their structure.
 * All integers little-endian.
 *
 *   v4: Header (0x30) | TD body 1.0 (0x248)                      | sig data len (4) | sig data
 *   v5: Header (0x30) | body type (2) | body size (4) | body      | sig data len (4) | sig data
 * The ECDSA quote signature covers the header and the body (for v5 the descriptor too): every byte
 * before the signature data length field.
 */

/** Header (A.3). `RESERVED_*` are zero in TDX quotes (QE/PCE SVN slots of the SGX v3 header). */
export const HEADER = {
  VERSION: 0x00, // 2
  ATT_KEY_TYPE: 0x02, // 2
  TEE_TYPE: 0x04, // 4
  RESERVED_1: 0x08, // 2
  RESERVED_2: 0x0a, // 2
  QE_VENDOR_ID: 0x0c, // 16
  USER_DATA: 0x1c, // 20
  SIZE: 0x30,
} as const;

export const SUPPORTED_QUOTE_VERSIONS: readonly number[] = [4, 5];
/** Attestation Key Type 2 = ECDSA-256-with-P-256 curve (A.3); 3 (P-384) is reserved. */
export const ATT_KEY_TYPE_ECDSA_P256 = 2;
/** TEE Type 0x81 = TDX (0x00 is SGX). */
export const TEE_TYPE_TDX = 0x81;
/** Intel's QE Vendor ID (A.3): 939A7233-F79C-4CA9-940A-0DB3957F0607. */
export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';

/** TD Quote Body (A.3.2, TDX 1.0 = TDREPORT's TDINFO + TEE_TCB_INFO parts); 1.5 appends two fields. */
export const TD_BODY = {
  TEE_TCB_SVN: 0x000, // 16
  MR_SEAM: 0x010, // 48
  MR_SIGNER_SEAM: 0x040, // 48
  SEAM_ATTRIBUTES: 0x070, // 8
  TD_ATTRIBUTES: 0x078, // 8
  XFAM: 0x080, // 8
  MR_TD: 0x088, // 48
  MR_CONFIG_ID: 0x0b8, // 48
  MR_OWNER: 0x0e8, // 48
  MR_OWNER_CONFIG: 0x118, // 48
  RTMR0: 0x148, // 48
  RTMR1: 0x178, // 48
  RTMR2: 0x1a8, // 48
  RTMR3: 0x1d8, // 48
  REPORT_DATA: 0x208, // 64
  /** TDX 1.5 only (v5 body type 3). */
  TEE_TCB_SVN_2: 0x248, // 16
  /** TDX 1.5 only (v5 body type 3). */
  MR_SERVICE_TD: 0x258, // 48
} as const;

export const TD_BODY_SIZE_10 = 0x248; // 584
export const TD_BODY_SIZE_15 = 0x288; // 648

/** v5 Quote Body Descriptor (A.3.3): type (2) then size (4) then the body. */
export const V5_BODY_TYPE_OFFSET = 0x30;
export const V5_BODY_SIZE_OFFSET = 0x32;
export const V5_BODY_OFFSET = 0x36;
/** v5 body types: 1 = SGX enclave report (not a TD), 2 = TD report TDX 1.0, 3 = TD report TDX 1.5. */
export const V5_BODY_TYPE_TDX10 = 2;
export const V5_BODY_TYPE_TDX15 = 3;

/** ECDSA 256-bit Quote Signature Data (A.4.1), relative to the start of the signature data. */
export const SIG_DATA = {
  QUOTE_SIGNATURE: 0x00, // 64: r ‖ s, big-endian
  ATTESTATION_KEY: 0x40, // 64: raw P-256 point x ‖ y
  CERT_DATA_TYPE: 0x80, // 2
  CERT_DATA_SIZE: 0x82, // 4
  CERT_DATA: 0x86, // CERT_DATA_SIZE
} as const;

/** Certification Data types (A.4.2). TDX quotes carry 6, which nests a 5. */
export const CERT_TYPE_PCK_CHAIN = 5;
export const CERT_TYPE_QE_REPORT = 6;

/** QE Report Certification Data (A.4.3), relative to its start. */
export const QE_CERT_DATA = {
  QE_REPORT: 0x000, // 384
  QE_REPORT_SIGNATURE: 0x180, // 64: r ‖ s over the QE report, by the PCK key
  QE_AUTH_DATA_SIZE: 0x1c0, // 2
  QE_AUTH_DATA: 0x1c2, // QE_AUTH_DATA_SIZE, then a nested Certification Data (type 2, size 4, data)
} as const;

/** SGX Report Body (A.4.5) — the QE's report. Reserved ranges below must be zero. */
export const QE_REPORT = {
  CPU_SVN: 0x000, // 16
  MISC_SELECT: 0x010, // 4
  ATTRIBUTES: 0x030, // 16
  MR_ENCLAVE: 0x040, // 32
  MR_SIGNER: 0x080, // 32
  ISV_PROD_ID: 0x100, // 2
  ISV_SVN: 0x102, // 2
  REPORT_DATA: 0x140, // 64
  SIZE: 0x180,
} as const;

/** A half-open byte range [start, end) that must be zero. */
export interface ReservedRange {
  start: number;
  end: number;
  name: string;
}

export const QE_REPORT_RESERVED: readonly ReservedRange[] = [
  { start: 0x014, end: 0x030, name: 'QE report RESERVED1' },
  { start: 0x060, end: 0x080, name: 'QE report RESERVED2' },
  { start: 0x0a0, end: 0x100, name: 'QE report RESERVED3' },
  { start: 0x104, end: 0x140, name: 'QE report RESERVED4' },
];

export const HEADER_RESERVED: readonly ReservedRange[] = [
  { start: 0x08, end: 0x0c, name: 'header RESERVED' },
];

export const SIZE = {
  MEASUREMENT: 48,
  REPORT_DATA: 64,
  TEE_TCB_SVN: 16,
  ATTRIBUTES_8: 8,
  SIGNATURE: 64,
  ATTESTATION_KEY: 64,
  QE_VENDOR_ID: 16,
  USER_DATA: 20,
  QE_CPU_SVN: 16,
  QE_ATTRIBUTES: 16,
  QE_HASH: 32,
} as const;

/** "0x1A0"-style rendering used in every message of this module. */
export function hex(n: number): string {
  return `0x${n.toString(16).toUpperCase()}`;
}
