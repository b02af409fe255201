/**
 * parseReport's boundary: what is structure (rejected with `malformed_evidence` and an exact
 * message) and what is not (parses; verification or policy judge it). Runs on synthetic reports
 * (serializeReport) so it needs no vectors; the real reports are swept too where present.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import { isSealgateError, SealgateError } from '../../../src/errors.js';
import { parseReport } from '../../../src/evidence/snp/parse-report.js';
import { serializeReport } from '../../../src/evidence/snp/serialize-report.js';
import type { SnpReport } from '../../../src/evidence/snp/types.js';
import { SNP_SETS, vectors } from '../../support/vectors.js';
import { syntheticFields } from './fixtures.js';

const v = vectors();
const VERSIONS = [2, 3, 4, 5] as const;

function expectMalformed(bytes: Uint8Array, message: string): void {
  let caught: unknown;
  try {
    parseReport(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SealgateError);
  expect((caught as SealgateError).code).toBe('malformed_evidence');
  expect((caught as SealgateError).message).toBe(message);
}

const synthetic = (version: 2 | 3 | 4 | 5): Uint8Array => serializeReport(syntheticFields(version));
const fieldsOf = (r: SnpReport) => {
  const { raw: _raw, signedBytes: _signedBytes, ...fields } = r;
  return fields;
};
const hx = (n: number) => `0x${n.toString(16).toUpperCase()}`;

/**
 * Reserved ranges written out by hand from Table 23 (not imported from layout.ts, so that this pins
 * the layout rather than repeating it).
 */
const RESERVED: Record<2 | 3 | 4 | 5, [number, number, string][]> = (() => {
  const always: [number, number, string][] = [
    [0x04c, 0x050, 'after the signer info'],
    [0x18b, 0x1a0, 'after CPUID_STEP'],
    [0x1eb, 0x1ec, 'after CURRENT_VERSION'],
    [0x1ef, 0x1f0, 'after COMMITTED_VERSION'],
    [0x208, 0x2a0, 'before SIGNATURE'],
    [0x330, 0x4a0, 'signature tail after R and S'],
  ];
  const cpuid: [number, number, string] = [0x188, 0x18b, 'CPUID, defined from v3'];
  const mit: [number, number, string] = [0x1f8, 0x208, 'MIT vectors, defined from v5'];
  return { 2: [...always, cpuid, mit], 3: [...always, mit], 4: [...always, mit], 5: always };
})();

describe('parseReport: size and version', () => {
  it('rejects every size but 1184', () => {
    for (const n of [0, 1, 4, 0x2a0, 1183, 1185, 2048, 2 * 1184, 4096]) {
      expectMalformed(new Uint8Array(n), `SNP report: expected 1184 bytes, got ${n}`);
    }
  });

  it('rejects a non-Uint8Array with invalid_argument', () => {
    expect(() => parseReport([1, 2, 3] as unknown as Uint8Array)).toThrowError(
      'SNP report: expected a Uint8Array',
    );
  });

  it('rejects unknown versions (read little-endian)', () => {
    for (const version of [0, 1, 6, 7, 0x100, 0x02000000, 0xffffffff]) {
      const bytes = synthetic(2);
      new DataView(bytes.buffer).setUint32(0, version, true);
      expectMalformed(bytes, `SNP report: unsupported version ${version} (supported: 2, 3, 4, 5)`);
    }
  });

  it('carries field and offset in the detail', () => {
    const bytes = synthetic(3);
    bytes[0x1a0 - 1] = 0x42;
    try {
      parseReport(bytes);
      expect.unreachable();
    } catch (e) {
      expect(isSealgateError(e, 'malformed_evidence')).toBe(true);
      expect((e as SealgateError).detail).toEqual({
        field: 'reserved',
        offset: 0x19f,
        range: [0x18b, 0x1a0],
        version: 3,
      });
    }
  });
});

describe('parseReport: reserved ranges per version', () => {
  for (const version of VERSIONS) {
    it(`v${version}: a non-zero byte anywhere in each reserved range is rejected`, () => {
      for (const [start, end, name] of RESERVED[version]) {
        for (const i of new Set([start, start + ((end - start) >> 1), end - 1])) {
          const bytes = synthetic(version);
          bytes[i] = 0x80;
          expectMalformed(
            bytes,
            `SNP report: byte ${hx(i)} must be zero in version ${version} (reserved [${hx(start)}, ${hx(end)}): ${name}), got 0x80`,
          );
        }
      }
    });

    it(`v${version}: every other byte outside the checked header words may take any value`, () => {
      const reserved = (i: number) => RESERVED[version].some(([s, e]) => i >= s && i < e);
      // VERSION, POLICY, SIGNATURE_ALGO and the signer info have their own tests below.
      const checked = (i: number) =>
        i < 0x04 || (i >= 0x08 && i < 0x10) || (i >= 0x34 && i < 0x38) || (i >= 0x48 && i < 0x4c);
      const base = synthetic(version);
      let accepted = 0;
      for (let i = 0; i < 1184; i++) {
        if (reserved(i) || checked(i)) continue;
        const bytes = base.slice();
        bytes[i]! ^= 0xff;
        expect(toHex(parseReport(bytes).raw)).toBe(toHex(bytes));
        accepted++;
      }
      const reservedCount = RESERVED[version].reduce((n, [s, e]) => n + e - s, 0);
      expect(accepted).toBe(1184 - reservedCount - 4 - 8 - 4 - 4);
    });
  }

  it('CPUID bytes are data from v3 and MIT vectors from v5', () => {
    const v3 = parseReport(synthetic(3));
    expect(v3.cpuid).toEqual({ family: 0x19, model: 0x11, stepping: 1 });
    expect(v3.launchMitVector).toBeNull();
    const v5 = parseReport(synthetic(5));
    expect(v5.launchMitVector).toBe(0x0102030405060708n);
    expect(v5.currentMitVector).toBe(0x1112131415161718n);
    expect(parseReport(synthetic(2)).cpuid).toBeNull();
  });
});

describe('parseReport: header words', () => {
  it('rejects signer info with reserved bits 31:5 set', () => {
    for (const [offset, value, word] of [
      [0x48, 0x25, '0x00000025'],
      [0x49, 0x01, '0x00000105'],
      [0x4b, 0x80, '0x80000005'],
    ] as const) {
      const bytes = synthetic(3);
      bytes[offset] = value;
      expectMalformed(bytes, `SNP report: signer info reserved bits 31:5 must be zero, got ${word}`);
    }
  });

  it('rejects the reserved SIGNING_KEY values 2..6 and decodes 0, 1, 7', () => {
    for (let key = 0; key < 8; key++) {
      const bytes = synthetic(3);
      bytes[0x48] = (key << 2) | 0b11;
      if (key >= 2 && key <= 6) {
        expectMalformed(bytes, `SNP report: SIGNING_KEY ${key} is reserved (0 = VCEK, 1 = VLEK, 7 = none)`);
      } else {
        const r = parseReport(bytes);
        expect(r.signingKey).toBe(key === 0 ? 'vcek' : key === 1 ? 'vlek' : 'none');
        expect([r.authorKeyEn, r.maskChipKey]).toEqual([true, true]);
      }
    }
  });

  it('rejects a signature algorithm other than ECDSA P-384/SHA-384', () => {
    for (const algo of [0, 2, 0x100, 0xffffffff]) {
      const bytes = synthetic(5);
      new DataView(bytes.buffer).setUint32(0x34, algo, true);
      expectMalformed(
        bytes,
        `SNP report: unsupported signature algorithm ${algo} (1 = ECDSA P-384 with SHA-384)`,
      );
    }
  });

  it('rejects a guest policy with bit 17 clear', () => {
    const bytes = synthetic(2);
    bytes[0x0a]! &= ~0x02;
    expectMalformed(bytes, 'SNP report: guest policy bit 17 must be one, got policy 0x2093701');
  });

  it('rejects each reserved guest policy bit 63:26', () => {
    for (let b = 26; b < 64; b++) {
      const bytes = synthetic(2);
      bytes[0x08 + (b >> 3)]! |= 1 << (b & 7);
      const policy = (0x20b3701n | (1n << BigInt(b))).toString(16);
      expectMalformed(
        bytes,
        `SNP report: guest policy reserved bits 63:26 must be zero, got policy 0x${policy}`,
      );
    }
  });

  it('parses what policy decides: DEBUG, migration agent, any VMPL, an unsigned report', () => {
    const f = syntheticFields(3);
    const r = parseReport(
      serializeReport({
        ...f,
        policy: { ...f.policy, raw: f.policy.raw | (1n << 18n), migrateMa: true },
        vmpl: 3,
        signingKey: 'none',
        signature: { rLe: new Uint8Array(72), sLe: new Uint8Array(72) },
      }),
    );
    expect([r.policy.debug, r.policy.migrateMa, r.vmpl, r.signingKey]).toEqual([true, true, 3, 'none']);
  });
});

describe('parseReport: returns copies', () => {
  it('no returned array shares memory with the input or with each other', () => {
    const bytes = synthetic(5);
    const r = parseReport(bytes);
    const arrays = [r.raw, r.signedBytes, r.familyId, r.imageId, r.reportData, r.measurement, r.hostData];
    arrays.push(
      r.idKeyDigest,
      r.authorKeyDigest,
      r.reportId,
      r.reportIdMa,
      r.chipId,
      r.signature.rLe,
      r.signature.sLe,
    );
    for (const a of arrays) expect(a.buffer).not.toBe(bytes.buffer);
    expect(r.signedBytes.buffer).not.toBe(r.raw.buffer);
    const snapshot = toHex(r.reportData);
    bytes.fill(0);
    r.raw.fill(0);
    expect(toHex(r.reportData)).toBe(snapshot);
    expect(r.signedBytes[0]).toBe(5);
  });
});

describe('parseReport: properties', () => {
  it('random 1184 bytes: a report or malformed_evidence, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1184, maxLength: 1184 }), (bytes) => {
        try {
          parseReport(bytes);
        } catch (e) {
          return isSealgateError(e, 'malformed_evidence');
        }
        return true;
      }),
    );
  });

  it('a valid report with a few bytes changed: parses and re-serializes identically, or malformed_evidence', () => {
    const bases = VERSIONS.map(synthetic);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: bases.length - 1 }),
        fc.array(
          fc.record({ at: fc.integer({ min: 0, max: 1183 }), value: fc.integer({ min: 0, max: 255 }) }),
          {
            maxLength: 4,
          },
        ),
        (which, edits) => {
          const bytes = bases[which]!.slice();
          for (const { at, value } of edits) bytes[at] = value;
          let report: SnpReport;
          try {
            report = parseReport(bytes);
          } catch (e) {
            return isSealgateError(e, 'malformed_evidence');
          }
          return toHex(serializeReport(fieldsOf(report))) === toHex(bytes);
        },
      ),
    );
  });
});

describe.skipIf(!v.present)(
  `real reports: each reserved byte flipped${v.present ? '' : ` (skipped: ${v.skipReason})`}`,
  () => {
    for (const set of SNP_SETS) {
      it(set, () => {
        const base = v.bytes(`snp/${set}/report.bin`);
        const version = parseReport(base).version as 2 | 3 | 5;
        for (const [start, end, name] of RESERVED[version]) {
          for (let i = start; i < end; i++) {
            const bytes = base.slice();
            bytes[i] = 0x01;
            expectMalformed(
              bytes,
              `SNP report: byte ${hx(i)} must be zero in version ${version} (reserved [${hx(start)}, ${hx(end)}): ${name}), got 0x01`,
            );
          }
        }
      });
    }
  },
);
