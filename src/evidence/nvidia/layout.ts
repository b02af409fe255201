/**
 * Byte layout of NVIDIA GPU attestation evidence (Hopper, CC mode): what NVML's
 * `nvmlDeviceGetConfComputeGpuAttestationReport` returns is an SPDM 1.1 GET_MEASUREMENTS request
 * followed by the device's MEASUREMENTS response (DMTF DSP0274 1.1, "GET_MEASUREMENTS request and
 * MEASUREMENTS response messages"). Offsets are written in hex, relative to the start of each
 * message; every multi-byte integer is little-endian (DSP0274 "Notations": byte order).
 *
 * The response's OpaqueData is NVIDIA-defined: a run of (type u16, size u16, value) items; the type
 * numbers are those of nvtrust's local_gpu_verifier (`attestation/spdm_msrt_resp_msg.py`,
 * `OpaqueData.OPAQUE_DATA_TYPES`) and NVIDIA's attestation-sdk (`gpu_opaque_data_parser`).
 */

/** SPDMVersion 0x11 = SPDM 1.1, the only version Hopper speaks (and NVIDIA's verifiers accept). */
export const SPDM_VERSION_1_1 = 0x11;

/** RequestResponseCode values (DSP0274 "SPDM request codes" / "SPDM response codes"). */
export const GET_MEASUREMENTS = 0xe0;
export const MEASUREMENTS = 0x60;

/** GET_MEASUREMENTS Param1 bit 0: a signature is requested (then Nonce and SlotIDParam follow). */
export const PARAM1_SIGNATURE_REQUESTED = 0x01;
/** GET_MEASUREMENTS Param2 0xFF: "all measurement blocks" (Param2 = measurement operation). */
export const PARAM2_ALL_MEASUREMENTS = 0xff;

/** GET_MEASUREMENTS request with a signature requested: 37 bytes. */
export const REQUEST = {
  SPDM_VERSION: 0x00, // 1
  REQUEST_RESPONSE_CODE: 0x01, // 1
  PARAM1: 0x02, // 1
  PARAM2: 0x03, // 1
  NONCE: 0x04, // 32
  /** Bits 3:0 the certificate slot (0..7), bits 7:4 reserved. */
  SLOT_ID_PARAM: 0x24, // 1
  SIZE: 0x25,
} as const;

/** Successful MEASUREMENTS response: the fixed head, then the variable parts in this order. */
export const RESPONSE = {
  SPDM_VERSION: 0x00, // 1
  REQUEST_RESPONSE_CODE: 0x01, // 1
  /** Reserved when Param2 of the request is not 0 (our case: 0xFF). */
  PARAM1: 0x02, // 1
  /** Reserved in SPDM 1.1. */
  PARAM2: 0x03, // 1
  NUMBER_OF_BLOCKS: 0x04, // 1
  MEASUREMENT_RECORD_LENGTH: 0x05, // 3 (u24)
  MEASUREMENT_RECORD: 0x08, // L1 = MeasurementRecordLength
  HEAD_SIZE: 0x08,
  // then: Nonce (32) ‖ OpaqueLength (2) ‖ OpaqueData (L2) ‖ Signature (96)
} as const;

export const SIZE = {
  NONCE: 32,
  OPAQUE_LENGTH: 2,
  /** ECDSA P-384: r ‖ s, 48 bytes each, big-endian (DSP0274 "Signature" encoding, FIPS 186 r and s). */
  SIGNATURE: 96,
  SIGNATURE_COMPONENT: 48,
} as const;

/** DSP0274: "OpaqueLength … shall not be greater than 1024". */
export const MAX_OPAQUE_LENGTH = 1024;

/** Measurement block (DSP0274 "Measurement block format"): a 4-byte head before the Measurement. */
export const BLOCK = {
  INDEX: 0x00, // 1
  MEASUREMENT_SPECIFICATION: 0x01, // 1 (bit mask; bit 0 = DMTF)
  MEASUREMENT_SIZE: 0x02, // 2
  MEASUREMENT: 0x04, // MeasurementSize
  HEAD_SIZE: 0x04,
} as const;

/** MeasurementSpecification bit 0: the DMTF measurement format below (the only one NVIDIA uses). */
export const MEASUREMENT_SPEC_DMTF = 0x01;

/** DMTF measurement (DSP0274 "DMTF measurement specification format"): a 3-byte head before the value. */
export const DMTF = {
  VALUE_TYPE: 0x00, // 1: bit 7 raw bit stream (1) or digest (0); bits 6:0 the type
  VALUE_SIZE: 0x01, // 2
  VALUE: 0x03, // ValueSize
  HEAD_SIZE: 0x03,
} as const;

export const DMTF_VALUE_TYPE_RAW_BIT = 0x80;

/** One NVIDIA opaque-data item: type (u16) ‖ size (u16) ‖ value. */
export const OPAQUE_ITEM_HEAD_SIZE = 4;

/**
 * NVIDIA opaque-data types (nvtrust `OPAQUE_DATA_TYPES`). 255 is "invalid" there and is not a name
 * here: it and any number not listed make the evidence malformed, as in nvtrust and trustee.
 */
export const OPAQUE_TYPES = {
  1: 'CERT_ISSUER_NAME',
  2: 'CERT_AUTHORITY_KEY_IDENTIFIER',
  3: 'DRIVER_VERSION',
  4: 'GPU_INFO',
  5: 'SKU',
  6: 'VBIOS_VERSION',
  7: 'MANUFACTURER_ID',
  8: 'TAMPER_DETECTION',
  9: 'SMC',
  10: 'VPR',
  11: 'NVDEC0_STATUS',
  12: 'MSRSCNT',
  13: 'CPRINFO',
  14: 'BOARD_ID',
  15: 'CHIP_SKU',
  16: 'CHIP_SKU_MOD',
  17: 'PROJECT',
  18: 'PROJECT_SKU',
  19: 'PROJECT_SKU_MOD',
  20: 'FWID',
  21: 'PROTECTED_PCIE_STATUS',
  22: 'SWITCH_PDI',
  23: 'FLOORSWEPT_PORTS',
  24: 'POSITION_ID',
  25: 'LOCK_SWITCH_STATUS',
  32: 'GPU_LINK_CONN',
  33: 'SYS_ENABLE_STATUS',
  34: 'OPAQUE_DATA_VERSION',
  35: 'CHIP_INFO',
  36: 'FEATURE_FLAG',
} as const satisfies Record<number, string>;

export type OpaqueTypeName = (typeof OPAQUE_TYPES)[keyof typeof OPAQUE_TYPES];

/** NVDEC0_STATUS byte values (nvtrust `BaseSettings.NVDEC_STATUS`). */
export const NVDEC0_ENABLED = 0xaa;
export const NVDEC0_DISABLED = 0x55;

/** VBIOS_VERSION is 8 bytes: a u32 LE (major…) then a one-byte OEM part, then 3 bytes. */
export const VBIOS_VERSION_SIZE = 8;
/** FWID: SHA-384 of the GSP firmware, as the leaf certificate's FWID extension carries it. */
export const FWID_SIZE = 48;
/** MSRSCNT: one u32 LE counter per measurement block. */
export const MSRSCNT_ITEM_SIZE = 4;
/** SWITCH_PDI: 8-byte PDIs. */
export const SWITCH_PDI_SIZE = 8;

/** "0x1A0"-style rendering used in every message of this module. */
export function hex(n: number): string {
  return `0x${n.toString(16).toUpperCase()}`;
}
