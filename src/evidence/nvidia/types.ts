/**
 * NVIDIA GPU evidence after parsing (stage 1 of parse → verify → evaluate): the SPDM 1.1
 * GET_MEASUREMENTS request and MEASUREMENTS response (DMTF DSP0274 1.1) with NVIDIA's opaque data
 * decoded. Nothing here is verified: the signature, the certificate chain, the FWID binding and the
 * nonce are stage 2 (src/verify/nvidia).
 */
import type { OpaqueTypeName } from './layout.js';

export interface SpdmMeasurementsRequest {
  spdmVersion: number;
  code: number;
  param1: number;
  param2: number;
  /** The verifier's nonce (32 bytes): what makes the report fresh. */
  nonce: Uint8Array;
  slotId: number;
}

/** One measurement block in DMTF format (DSP0274 "Measurement block format"). */
export interface MeasurementBlock {
  /** 1-based, as on the wire; NVIDIA's RIM index i is block i + 1. */
  index: number;
  /** DMTFSpecMeasurementValueType bits 6:0. */
  valueType: number;
  /** DMTFSpecMeasurementValueType bit 7: a raw bit stream rather than a digest. */
  raw: boolean;
  value: Uint8Array;
}

/** One NVIDIA opaque-data item, in wire order. */
export interface OpaqueItem {
  type: number;
  name: OpaqueTypeName;
  value: Uint8Array;
}

/** The opaque-data items a verifier and a policy use, decoded (nvtrust's formats). */
export interface NvidiaOpaqueData {
  items: readonly OpaqueItem[];
  /** e.g. "545.00" (ASCII, NUL padding removed). */
  driverVersion: string;
  /** e.g. "96.00.5e.00.01" (lower-case hex, as nvtrust's `format_vbios_version`). */
  vbiosVersion: string;
  /** SHA-384 FWID of the GSP firmware, when the driver reports it (absent before R550). */
  fwid: Uint8Array | null;
  project: string | null;
  projectSku: string | null;
  chipSku: string | null;
  chipInfo: string | null;
  /** NVDEC0_STATUS byte (0xAA enabled, 0x55 disabled), or null. */
  nvdec0Status: number | null;
  /** MSRSCNT: one counter per block (index i at position i - 1), or null. */
  measurementCounts: readonly number[] | null;
  opaqueDataVersion: number | null;
}

export interface SpdmMeasurementsResponse {
  spdmVersion: number;
  code: number;
  param1: number;
  param2: number;
  numberOfBlocks: number;
  measurementRecordLength: number;
  blocks: readonly MeasurementBlock[];
  /** The responder's nonce (32 bytes). */
  nonce: Uint8Array;
  opaqueLength: number;
  opaque: NvidiaOpaqueData;
}

export interface GpuEvidence {
  /** A copy of the input, trailing bytes included. */
  raw: Uint8Array;
  request: SpdmMeasurementsRequest;
  response: SpdmMeasurementsResponse;
  /** L1 of DSP0274: request ‖ response up to (not including) the signature — what is signed. */
  signedBytes: Uint8Array;
  /** ECDSA P-384 r ‖ s, 96 bytes, big-endian (what WebCrypto verifies as is). */
  signature: Uint8Array;
  /** Bytes after the signature: not part of either SPDM message (see parse-evidence.ts). */
  trailing: Uint8Array;
}
