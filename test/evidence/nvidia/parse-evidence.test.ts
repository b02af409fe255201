/**
 * parseGpuEvidence on the three real Hopper reports (../shared/testdata/nvidia, see SOURCES.md):
 * every value of each set's expected.json; then the parser's boundary — every truncation, every
 * fixed byte, the lengths, the opaque items and trailing bytes — on one real report.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import { isSealgateError } from '../../../src/errors.js';
import { gpuEvidenceBytes } from '../../../src/evidence/nvidia/evidence-text.js';
import { parseGpuEvidence } from '../../../src/evidence/nvidia/parse-evidence.js';
import { GPU_SETS, vectors } from '../../support/vectors.js';

const v = vectors();

interface Expected {
  evidence: {
    total_len: number;
    signed_len: number;
    trailing_bytes_after_signature: number;
    request: {
      spdm_version: string;
      code: string;
      param1: number;
      param2: string;
      nonce: string;
      slot_id: number;
    };
    response: {
      spdm_version: string;
      code: string;
      param1: number;
      param2: number;
      number_of_blocks: number;
      measurement_record_length: number;
      responder_nonce: string;
      opaque_data_length: number;
    };
    opaque: Record<string, string>;
    measurements: Record<string, string>;
    signature_r_s_hex: string;
  };
}

function malformedMessage(bytes: Uint8Array): string {
  try {
    parseGpuEvidence(bytes);
  } catch (e) {
    if (isSealgateError(e, 'malformed_evidence')) return e.message;
    throw e;
  }
  throw new Error('parsed');
}

const OPAQUE_AT = 37 + 8 + 3520 + 32; // the 545 report: request, response head, record, nonce

describe.skipIf(!v.present)(`real GPU reports${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  for (const set of GPU_SETS) {
    it(`${set}: every value of expected.json`, () => {
      const exp = v.json<Expected>(`nvidia/${set}/expected.json`).evidence;
      const bin = v.bytes(`nvidia/${set}/report.bin`);
      const ev = parseGpuEvidence(bin);
      expect(gpuEvidenceBytes(v.bytes(`nvidia/${set}/report.hex`))).toEqual(bin);
      expect(ev.raw.length).toBe(exp.total_len);
      expect(ev.signedBytes.length).toBe(exp.signed_len);
      expect(ev.trailing.length).toBe(exp.trailing_bytes_after_signature);
      const rq = exp.request;
      expect(ev.request).toEqual({
        spdmVersion: Number(rq.spdm_version),
        code: Number(rq.code),
        param1: rq.param1,
        param2: Number(rq.param2),
        nonce: ev.request.nonce,
        slotId: rq.slot_id,
      });
      expect(toHex(ev.request.nonce)).toBe(rq.nonce);
      const rs = exp.response;
      expect(ev.response.spdmVersion).toBe(Number(rs.spdm_version));
      expect(ev.response.code).toBe(Number(rs.code));
      expect([ev.response.param1, ev.response.param2]).toEqual([rs.param1, rs.param2]);
      expect(ev.response.numberOfBlocks).toBe(rs.number_of_blocks);
      expect(ev.response.measurementRecordLength).toBe(rs.measurement_record_length);
      expect(toHex(ev.response.nonce)).toBe(rs.responder_nonce);
      expect(ev.response.opaqueLength).toBe(rs.opaque_data_length);
      const measurements = Object.fromEntries(
        ev.response.blocks.map((b) => [String(b.index), toHex(b.value)]),
      );
      expect(measurements).toEqual(exp.measurements);
      expect(ev.response.blocks.every((b) => b.valueType === 1 && !b.raw)).toBe(true);
      expect(toHex(ev.signature)).toBe(exp.signature_r_s_hex);

      const o = ev.response.opaque;
      const op = exp.opaque;
      expect(o.driverVersion).toBe(op.DRIVER_VERSION);
      expect(o.vbiosVersion).toBe(op.VBIOS_VERSION);
      expect(o.project).toBe(op.PROJECT);
      expect(o.projectSku).toBe(op.PROJECT_SKU);
      expect(o.chipSku).toBe(op.CHIP_SKU);
      expect(o.fwid === null ? undefined : toHex(o.fwid)).toBe(op.FWID);
      expect(String.fromCharCode(o.nvdec0Status!)).toBe(op.NVDEC0_STATUS);
      const counts = o
        .measurementCounts!.map((c) => toHex(Uint8Array.of(c, c >> 8, c >> 16, c >> 24)))
        .join('');
      expect(counts).toBe(op.MSRSCNT);
      const raw = (name: string) => toHex(o.items.find((i) => i.name === name)!.value);
      expect(raw('VBIOS_VERSION')).toBe(op.VBIOS_VERSION_raw);
      for (const name of ['BOARD_ID', 'GPU_INFO', 'CPRINFO']) expect(raw(name)).toBe(op[name]);
      expect(o.opaqueDataVersion === null ? undefined : o.opaqueDataVersion).toBe(
        op.OPAQUE_DATA_VERSION === undefined ? undefined : 1,
      );
    });
  }

  describe('hopper-545-with-rims-nvtrust: the parser boundary', () => {
    const real = () => v.bytes('nvidia/hopper-545-with-rims-nvtrust/report.bin');
    const edit = (at: number, ...bytes: number[]) => {
      const b = real();
      b.set(bytes, at);
      return b;
    };

    it('every truncation is malformed, never a throw of another kind', () => {
      const bytes = real();
      for (let n = 0; n < bytes.length; n++)
        expect(() => malformedMessage(bytes.subarray(0, n))).not.toThrow();
    });

    it('rejects each fixed byte of the request and the response head', () => {
      expect(malformedMessage(edit(0, 0x12))).toBe(
        'GPU evidence: request.spdmVersion at 0x0 is 0x12, expected 0x11',
      );
      expect(malformedMessage(edit(1, 0xe1))).toBe(
        'GPU evidence: request.code at 0x1 is 0xE1, expected 0xE0',
      );
      expect(malformedMessage(edit(2, 0x00))).toBe(
        'GPU evidence: request.param1 at 0x2 is 0x0, expected 0x1',
      );
      expect(malformedMessage(edit(2, 0x03))).toBe(
        'GPU evidence: request.param1 at 0x2 is 0x3, expected 0x1',
      );
      expect(malformedMessage(edit(3, 0x01))).toBe(
        'GPU evidence: request.param2 at 0x3 is 0x1, expected 0xFF',
      );
      expect(malformedMessage(edit(0x24, 0x10))).toMatch(/SlotIDParam 0x10/);
      expect(malformedMessage(edit(37, 0x12))).toMatch(/response.spdmVersion at 0x25 is 0x12/);
      expect(malformedMessage(edit(38, 0x7f))).toMatch(/response.code at 0x26 is 0x7F, expected 0x60/);
      expect(malformedMessage(edit(39, 1))).toMatch(/response.param1/);
      expect(malformedMessage(edit(40, 1))).toMatch(/response.param2/);
      expect(malformedMessage(edit(41, 0))).toBe('GPU evidence: NumberOfBlocks is 0');
    });

    it('rejects a block count or record length that does not fit the record exactly', () => {
      expect(malformedMessage(edit(41, 63))).toBe(
        'GPU evidence: 55 bytes left in the measurement record after 63 blocks',
      );
      expect(malformedMessage(edit(41, 65))).toMatch(/block 65 of 65 .* overruns the record/);
      expect(malformedMessage(edit(42, 0xbf, 0x0d, 0))).toMatch(/overruns the record/);
      expect(malformedMessage(edit(42, 0xff, 0xff, 0xff))).toMatch(
        /measurementRecord at 0x2D .* runs past the end/,
      );
    });

    it('rejects a block that is not DMTF, sized inconsistently, or a repeated or reserved index', () => {
      const b = 45; // first block
      expect(malformedMessage(edit(b + 1, 0x02))).toMatch(
        /block 1 specification at 0x2E is 0x2, expected 0x1/,
      );
      expect(malformedMessage(edit(b + 2, 0x34))).toBe(
        'GPU evidence: block 1: MeasurementSize 52 is not 3 + DMTF ValueSize 48',
      );
      expect(malformedMessage(edit(b + 55, 0x01))).toBe('GPU evidence: measurement index 1 appears twice');
      expect(malformedMessage(edit(b, 0))).toMatch(/index 0 \(1..0xFE\)/);
      expect(malformedMessage(edit(b, 0xff))).toMatch(/index 255 \(1..0xFE\)/);
    });

    it('rejects opaque data that overruns, repeats or names an unknown type, and a missing version', () => {
      const at = OPAQUE_AT; // OpaqueLength
      expect(malformedMessage(edit(at, 0x01, 0x04))).toBe('GPU evidence: OpaqueLength 1025 exceeds 1024');
      expect(malformedMessage(edit(at, 0x60, 0x01))).toMatch(
        /item head at 0xF6C overruns OpaqueData \(3 bytes left\)/,
      );
      expect(malformedMessage(edit(at, 0x61, 0x01))).toMatch(/NVDEC0_STATUS at 0xF6C: size 1 overruns/);
      expect(malformedMessage(edit(at + 2, 0x1a, 0x00))).toMatch(/unknown type 26 at 0xE0F/);
      expect(malformedMessage(edit(at + 2, 0xff, 0x00))).toMatch(/unknown type 255/);
      expect(malformedMessage(edit(at + 4, 0xff, 0x01))).toMatch(/VBIOS_VERSION at 0xE0F: size 511 overruns/);
      // The second item (BOARD_ID, 14) renamed VBIOS_VERSION (6).
      expect(malformedMessage(edit(at + 2 + 12, 0x06, 0x00))).toMatch(/VBIOS_VERSION \(6\) appears twice/);
      // The first item (VBIOS_VERSION) renamed SKU (5): no VBIOS version left.
      expect(malformedMessage(edit(at + 2, 0x05, 0x00))).toMatch(
        /DRIVER_VERSION and VBIOS_VERSION are required/,
      );
    });

    it('rejects a driver version that is not ASCII', () => {
      const bytes = real();
      const i = bytes.findIndex(
        (_, k) => bytes[k] === 0x35 && bytes[k + 1] === 0x34 && bytes[k + 2] === 0x35,
      );
      bytes[i] = 0x80;
      expect(malformedMessage(bytes)).toMatch(/DRIVER_VERSION: byte 0 is 0x80, not printable ASCII/);
    });

    it('accepts one trailing zero byte and nothing more', () => {
      const bytes = real();
      const plus = (...t: number[]) => Uint8Array.from([...bytes, ...t]);
      expect(parseGpuEvidence(plus(0)).trailing).toEqual(Uint8Array.of(0));
      expect(parseGpuEvidence(plus(0)).signedBytes).toEqual(parseGpuEvidence(bytes).signedBytes);
      expect(malformedMessage(plus(1))).toMatch(/1 byte\(s\) after the signature at 0xFD1/);
      expect(malformedMessage(plus(0, 0))).toMatch(/2 byte\(s\) after the signature/);
    });

    it('reads hex text with whitespace and refuses broken hex', () => {
      const bytes = real();
      const hexText = `${toHex(bytes).replace(/(.{64})/g, '$1\n')}\n`;
      expect(gpuEvidenceBytes(new TextEncoder().encode(hexText))).toEqual(bytes);
      expect(gpuEvidenceBytes(bytes)).toBe(bytes);
      expect(() => gpuEvidenceBytes(new TextEncoder().encode('11e0z'))).toThrow(/non-hex/);
      expect(() => gpuEvidenceBytes(new TextEncoder().encode('11e'))).toThrow(/odd length/);
    });

    it('does not alias the caller buffer', () => {
      const bytes = real();
      const ev = parseGpuEvidence(bytes);
      bytes.fill(0);
      expect(ev.raw[0]).toBe(0x11);
      expect(ev.request.nonce.some((b) => b !== 0)).toBe(true);
    });
  });
});
