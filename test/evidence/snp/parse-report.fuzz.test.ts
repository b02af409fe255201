/**
 * parseReport on hostile bytes, beyond parse-report-malformed.test.ts (which sweeps synthetic
 * reports and each reserved byte of the real ones): any length, and REAL reports (the vectors in
 * ../shared/testdata) with random bytes changed. A report or `malformed_evidence`, nothing else;
 * what parses re-serialises to exactly its bytes; a non-zero reserved byte is always refused.
 * Also the evidence bundle around a report (the JSON a peer sends): `malformed_evidence` only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEvidenceBundle, parseEvidenceBundle } from '../../../src/attestation/evidence-bundle.js';
import { toHex } from '../../../src/bytes.js';
import { isSealgateError } from '../../../src/errors.js';
import { reservedRanges } from '../../../src/evidence/snp/layout.js';
import { parseReport } from '../../../src/evidence/snp/parse-report.js';
import { serializeReport } from '../../../src/evidence/snp/serialize-report.js';
import type { SnpReport } from '../../../src/evidence/snp/types.js';
import { SNP_SETS, vectors } from '../../support/vectors.js';

const v = vectors();

function attempt(bytes: Uint8Array): SnpReport | 'malformed' {
  try {
    return parseReport(bytes);
  } catch (e) {
    if (!isSealgateError(e, 'malformed_evidence')) throw new Error(`parseReport threw ${String(e)}`);
    return 'malformed';
  }
}

const fieldsOf = (r: SnpReport) => {
  const { raw: _raw, signedBytes: _signedBytes, ...fields } = r;
  return fields;
};

describe('parseReport: any bytes', () => {
  it('any length: malformed_evidence unless exactly 1184 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const r = attempt(bytes);
        if (bytes.length !== 1184) expect(r).toBe('malformed');
      }),
      { numRuns: 200 },
    );
  });
});

describe.skipIf(!v.present)(`real reports mutated${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  const bases = v.present ? SNP_SETS.map((set) => v.bytes(`snp/${set}/report.bin`)) : [];

  it('random byte edits: a report that re-serialises exactly, or malformed_evidence', () => {
    fc.assert(
      fc.property(
        fc.nat(SNP_SETS.length - 1),
        fc.array(fc.record({ at: fc.nat(1183), value: fc.nat(255) }), { minLength: 1, maxLength: 6 }),
        (which, edits) => {
          const bytes = bases[which]!.slice();
          for (const { at, value } of edits) bytes[at] = value;
          const r = attempt(bytes);
          if (r !== 'malformed') expect(toHex(serializeReport(fieldsOf(r)))).toBe(toHex(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a non-zero byte in any reserved range of its version is always refused', () => {
    fc.assert(
      fc.property(
        fc.nat(SNP_SETS.length - 1),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (which, pick, value) => {
          const bytes = bases[which]!.slice();
          const version = (parseReport(bytes) as SnpReport).version;
          const offsets = reservedRanges(version).flatMap((r) =>
            Array.from({ length: r.end - r.start }, (_, i) => r.start + i),
          );
          bytes[offsets[pick % offsets.length]!] = value;
          expect(attempt(bytes)).toBe('malformed');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the evidence bundle around a real report: any member mutated → malformed_evidence or a bundle', () => {
    const bundle = encodeEvidenceBundle({
      version: 1,
      role: 'worker',
      platform: 'sev-snp',
      simulated: false,
      nonce: new Uint8Array(32),
      report: bases[0]!,
      certificates: {},
      manifest: new TextEncoder().encode('{}'),
      keys: { hpke: new Uint8Array(32) },
    });
    const keys = Object.keys(bundle);
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
        (key, value) => {
          const doc: Record<string, unknown> = { ...bundle, [key]: value };
          if (value === undefined) delete doc[key];
          try {
            const parsed = parseEvidenceBundle(doc);
            expect(parsed.platform === 'sev-snp' && parsed.report.length).toBe(1184);
          } catch (e) {
            expect(isSealgateError(e, 'malformed_evidence'), String(e)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
