/**
 * Stage 1 of parse → verify → evaluate for NVIDIA GPU evidence: bytes → `GpuEvidence`, structure
 * only. The bytes are NVML's attestation report: an SPDM 1.1 GET_MEASUREMENTS request (37 bytes,
 * signature requested) then the MEASUREMENTS response (DMTF DSP0274 1.1, "GET_MEASUREMENTS request
 * and MEASUREMENTS response messages"; nvtrust `AttestationReport`). Every length is checked against
 * what is left before it is used; any failure throws `SealgateError('malformed_evidence')` with the
 * offset.
 *
 * Fixed values, each as NVIDIA's C++ verifier (attestation-sdk `spdm_req.cpp`/`spdm_resp.cpp`) or
 * DSP0274 1.1 requires: SPDMVersion 0x11 in both messages; codes 0xE0 / 0x60; Param1 bit 0 set
 * (signature requested — without it the request has no nonce) and its reserved bits clear; Param2
 * 0xFF (all blocks); SlotIDParam bits 7:4 reserved; response Param1/Param2 reserved (0) for this
 * request in 1.1; NumberOfBlocks ≥ 1 and equal to the blocks in the record; every block in DMTF
 * format with MeasurementSize = 3 + ValueSize; block indices unique and in 1..0xFE (0 and 0xFF are
 * not block indices); OpaqueLength ≤ 1024; the record exactly filled.
 *
 * Trailing bytes. NVML returns exactly the report (`attestationReportSize`). NVIDIA's C++ parser
 * rejects bytes after the signature, and nvtrust's Python takes "everything but the last 96 bytes"
 * as the signed region, so a trailing byte makes its signature check fail; trustee ignores them.
 * One real capture (trustee's `hopper_coco_report1`, CoCo CI, driver 580.95.05) ends in a single
 * 0x00 after a signature that verifies over the message without it. We accept exactly that — at
 * most one trailing byte, and it must be zero — and reject anything more: unsigned bytes cannot
 * change a claim, but accepting arbitrary ones would let a relay carry unsigned data inside
 * "evidence". The trailing bytes are returned, never signed, never read.
 */
import { SealgateError } from '../../errors.js';
import {
  BLOCK,
  DMTF,
  DMTF_VALUE_TYPE_RAW_BIT,
  GET_MEASUREMENTS,
  hex,
  MAX_OPAQUE_LENGTH,
  MEASUREMENT_SPEC_DMTF,
  MEASUREMENTS,
  PARAM1_SIGNATURE_REQUESTED,
  PARAM2_ALL_MEASUREMENTS,
  REQUEST,
  RESPONSE,
  SIZE,
  SPDM_VERSION_1_1,
} from './layout.js';
import { decodeOpaqueData } from './opaque-data.js';
import type {
  GpuEvidence,
  MeasurementBlock,
  SpdmMeasurementsRequest,
  SpdmMeasurementsResponse,
} from './types.js';

/** Most trailing bytes accepted after the signature (see the header). */
export const MAX_TRAILING_BYTES = 1;

function malformed(message: string, detail: Record<string, unknown> = {}): SealgateError {
  return new SealgateError('malformed_evidence', `GPU evidence: ${message}`, detail);
}

function expectByte(raw: Uint8Array, offset: number, want: number, field: string): void {
  const got = raw[offset]!;
  if (got !== want) {
    throw malformed(`${field} at ${hex(offset)} is ${hex(got)}, expected ${hex(want)}`, {
      field,
      offset,
      expected: want,
      actual: got,
    });
  }
}

function parseRequest(raw: Uint8Array): SpdmMeasurementsRequest {
  if (raw.length < REQUEST.SIZE) {
    throw malformed(`${raw.length} bytes is shorter than the ${REQUEST.SIZE}-byte GET_MEASUREMENTS request`, {
      field: 'size',
    });
  }
  expectByte(raw, REQUEST.SPDM_VERSION, SPDM_VERSION_1_1, 'request.spdmVersion');
  expectByte(raw, REQUEST.REQUEST_RESPONSE_CODE, GET_MEASUREMENTS, 'request.code');
  // SPDM 1.1 defines only bit 0 of Param1; the rest is reserved.
  expectByte(raw, REQUEST.PARAM1, PARAM1_SIGNATURE_REQUESTED, 'request.param1');
  expectByte(raw, REQUEST.PARAM2, PARAM2_ALL_MEASUREMENTS, 'request.param2');
  const slotParam = raw[REQUEST.SLOT_ID_PARAM]!;
  if (slotParam > 0x07) {
    throw malformed(`request SlotIDParam ${hex(slotParam)}: slot must be 0..7 and bits 7:4 are reserved`, {
      field: 'request.slotId',
      offset: REQUEST.SLOT_ID_PARAM,
    });
  }
  return {
    spdmVersion: raw[REQUEST.SPDM_VERSION]!,
    code: raw[REQUEST.REQUEST_RESPONSE_CODE]!,
    param1: raw[REQUEST.PARAM1]!,
    param2: raw[REQUEST.PARAM2]!,
    nonce: raw.slice(REQUEST.NONCE, REQUEST.NONCE + SIZE.NONCE),
    slotId: slotParam,
  };
}

/** The little-endian 16-bit integer at `at` (DSP0274 "Notations": byte order). */
function u16le(raw: Uint8Array, at: number): number {
  return raw[at]! | (raw[at + 1]! << 8);
}

/** A block's index is 1..0xFE (0 and 0xFF are not block indices) and not one seen before. */
function checkBlockIndex(raw: Uint8Array, pos: number, seen: Set<number>): number {
  const index = raw[pos + BLOCK.INDEX]!;
  if (index === 0 || index === 0xff) {
    throw malformed(`measurement block at ${hex(pos)} has index ${index} (1..0xFE)`, {
      field: 'measurementRecord',
      offset: pos,
    });
  }
  if (seen.has(index)) {
    throw malformed(`measurement index ${index} appears twice`, { field: 'measurementRecord', offset: pos });
  }
  seen.add(index);
  return index;
}

/**
 * The block at `pos` (DSP0274 "Measurement block format"), whose heads the caller checked fit
 * before `end`: DMTF format, MeasurementSize = 3 + ValueSize, inside the record. Returns it and
 * where the next block starts.
 */
function parseBlock(
  raw: Uint8Array,
  pos: number,
  end: number,
  seen: Set<number>,
): { block: MeasurementBlock; next: number } {
  const index = checkBlockIndex(raw, pos, seen);
  expectByte(
    raw,
    pos + BLOCK.MEASUREMENT_SPECIFICATION,
    MEASUREMENT_SPEC_DMTF,
    `block ${index} specification`,
  );
  const size = u16le(raw, pos + BLOCK.MEASUREMENT_SIZE);
  const m = pos + BLOCK.MEASUREMENT;
  const valueType = raw[m + DMTF.VALUE_TYPE]!;
  const valueSize = u16le(raw, m + DMTF.VALUE_SIZE);
  if (size !== DMTF.HEAD_SIZE + valueSize) {
    throw malformed(`block ${index}: MeasurementSize ${size} is not 3 + DMTF ValueSize ${valueSize}`, {
      field: 'measurementRecord',
      offset: pos,
    });
  }
  if (m + size > end) {
    throw malformed(`block ${index} at ${hex(pos)} overruns the record`, {
      field: 'measurementRecord',
      offset: pos,
    });
  }
  const block = {
    index,
    valueType: valueType & ~DMTF_VALUE_TYPE_RAW_BIT,
    raw: (valueType & DMTF_VALUE_TYPE_RAW_BIT) !== 0,
    value: raw.slice(m + DMTF.VALUE, m + size),
  };
  return { block, next: m + size };
}

/** The blocks of a MeasurementRecord at [start, end) of `raw` (absolute offsets in messages). */
function parseRecord(raw: Uint8Array, start: number, end: number, count: number): MeasurementBlock[] {
  const blocks: MeasurementBlock[] = [];
  const seen = new Set<number>();
  let pos = start;
  for (let n = 0; n < count; n++) {
    if (pos + BLOCK.HEAD_SIZE + DMTF.HEAD_SIZE > end) {
      throw malformed(`measurement block ${n + 1} of ${count} at ${hex(pos)} overruns the record`, {
        field: 'measurementRecord',
        offset: pos,
      });
    }
    const { block, next } = parseBlock(raw, pos, end, seen);
    blocks.push(block);
    pos = next;
  }
  if (pos !== end) {
    throw malformed(`${end - pos} bytes left in the measurement record after ${count} blocks`, {
      field: 'measurementRecord',
      offset: pos,
    });
  }
  return blocks;
}

/** `n` bytes at `at` are inside `raw`, checked before they are read. */
function need(raw: Uint8Array, at: number, n: number, what: string): void {
  if (at + n > raw.length) {
    throw malformed(`${what} at ${hex(at)} (${n} bytes) runs past the end (${raw.length} bytes)`, {
      field: what,
      offset: at,
    });
  }
}

/** The response's fixed head at `base`: SPDM 1.1 MEASUREMENTS, Param1/Param2 reserved, ≥ 1 block. */
function checkResponseHead(raw: Uint8Array, base: number): number {
  need(raw, base, RESPONSE.HEAD_SIZE, 'response head');
  expectByte(raw, base + RESPONSE.SPDM_VERSION, SPDM_VERSION_1_1, 'response.spdmVersion');
  expectByte(raw, base + RESPONSE.REQUEST_RESPONSE_CODE, MEASUREMENTS, 'response.code');
  expectByte(raw, base + RESPONSE.PARAM1, 0, 'response.param1');
  expectByte(raw, base + RESPONSE.PARAM2, 0, 'response.param2');
  const numberOfBlocks = raw[base + RESPONSE.NUMBER_OF_BLOCKS]!;
  if (numberOfBlocks === 0) {
    throw malformed('NumberOfBlocks is 0', { field: 'response.numberOfBlocks', offset: base + 4 });
  }
  return numberOfBlocks;
}

/** Nonce, OpaqueLength (≤ 1024) and OpaqueData after the record at `nonceAt`; where the signature starts. */
function parseResponseTail(raw: Uint8Array, nonceAt: number) {
  need(raw, nonceAt, SIZE.NONCE + SIZE.OPAQUE_LENGTH, 'response.nonce');
  const opaqueLengthAt = nonceAt + SIZE.NONCE;
  const opaqueLength = u16le(raw, opaqueLengthAt);
  if (opaqueLength > MAX_OPAQUE_LENGTH) {
    throw malformed(`OpaqueLength ${opaqueLength} exceeds ${MAX_OPAQUE_LENGTH}`, {
      field: 'response.opaqueLength',
      offset: opaqueLengthAt,
    });
  }
  const opaqueAt = opaqueLengthAt + SIZE.OPAQUE_LENGTH;
  need(raw, opaqueAt, opaqueLength, 'opaqueData');
  const opaque = decodeOpaqueData(raw.subarray(opaqueAt, opaqueAt + opaqueLength), opaqueAt);
  const signatureAt = opaqueAt + opaqueLength;
  need(raw, signatureAt, SIZE.SIGNATURE, 'signature');
  return { nonce: raw.slice(nonceAt, nonceAt + SIZE.NONCE), opaqueLength, opaque, signatureAt };
}

/** The response at `base` of `raw`; returns it and the offset of its Signature. */
function parseResponse(
  raw: Uint8Array,
  base: number,
): { response: SpdmMeasurementsResponse; signatureAt: number } {
  const numberOfBlocks = checkResponseHead(raw, base);
  const l = base + RESPONSE.MEASUREMENT_RECORD_LENGTH;
  const recordLength = raw[l]! | (raw[l + 1]! << 8) | (raw[l + 2]! << 16);
  const recordStart = base + RESPONSE.MEASUREMENT_RECORD;
  need(raw, recordStart, recordLength, 'measurementRecord');
  const blocks = parseRecord(raw, recordStart, recordStart + recordLength, numberOfBlocks);
  const { nonce, opaqueLength, opaque, signatureAt } = parseResponseTail(raw, recordStart + recordLength);
  return {
    response: {
      spdmVersion: raw[base + RESPONSE.SPDM_VERSION]!,
      code: raw[base + RESPONSE.REQUEST_RESPONSE_CODE]!,
      param1: raw[base + RESPONSE.PARAM1]!,
      param2: raw[base + RESPONSE.PARAM2]!,
      numberOfBlocks,
      measurementRecordLength: recordLength,
      blocks,
      nonce,
      opaqueLength,
      opaque,
    },
    signatureAt,
  };
}

export function parseGpuEvidence(bytes: Uint8Array): GpuEvidence {
  if (!(bytes instanceof Uint8Array)) {
    throw new SealgateError('invalid_argument', 'GPU evidence: expected a Uint8Array');
  }
  // Our own copy: the caller's buffer may change under us.
  const raw = bytes.slice();
  const request = parseRequest(raw);
  const { response, signatureAt } = parseResponse(raw, REQUEST.SIZE);
  const end = signatureAt + SIZE.SIGNATURE;
  const trailing = raw.slice(end);
  if (trailing.length > MAX_TRAILING_BYTES || trailing.some((b) => b !== 0)) {
    throw malformed(
      `${trailing.length} byte(s) after the signature at ${hex(end)} (at most ${MAX_TRAILING_BYTES} zero byte is accepted)`,
      { field: 'trailing', offset: end },
    );
  }
  return {
    raw,
    request,
    response,
    signedBytes: raw.slice(0, signatureAt),
    signature: raw.slice(signatureAt, end),
    trailing,
  };
}
