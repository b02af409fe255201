import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../src/bytes.js';
import { isSealgateError } from '../../../src/errors.js';
import {
  CERT_TABLE_GUIDS,
  parseCertTable,
  serializeCertTable,
} from '../../../src/evidence/snp/cert-table.js';

const vcek = fromHex('3082aabbcc');
const ask = fromHex('3082ddee');
const ark = fromHex('308211');

function expectMalformed(blob: Uint8Array, message: string): void {
  try {
    parseCertTable(blob);
    expect.unreachable('parsed a malformed table');
  } catch (e) {
    expect(isSealgateError(e, 'malformed_evidence')).toBe(true);
    expect((e as Error).message).toContain(message);
  }
}

describe('SNP certificate table (GHCB spec §4.1.8.1)', () => {
  it('round-trips VCEK, ASK and ARK', () => {
    const blob = serializeCertTable({ vcek, ask, ark });
    expect(blob.length).toBe(4 * 24 + vcek.length + ask.length + ark.length);
    const t = parseCertTable(blob);
    expect(t.vcek).toEqual(vcek);
    expect(t.ask).toEqual(ask);
    expect(t.ark).toEqual(ark);
    expect(t.vlek).toBeUndefined();
    expect(t.other).toEqual([]);
  });

  it('stores GUIDs in RFC 4122 byte order (the text order)', () => {
    const blob = serializeCertTable({ vcek });
    expect(blob.subarray(0, 16)).toEqual(fromHex(CERT_TABLE_GUIDS.vcek.replace(/-/g, '')));
  });

  it('keeps unknown GUIDs instead of dropping them', () => {
    const blob = serializeCertTable({ vcek });
    blob[0] = 0x00; // now an unknown GUID
    const t = parseCertTable(blob);
    expect(t.vcek).toBeUndefined();
    expect(t.other).toHaveLength(1);
    expect(t.other[0]!.data).toEqual(vcek);
  });

  it('refuses a table without terminator', () => {
    expectMalformed(new Uint8Array(20).fill(1), 'no terminating all-zero entry');
  });

  it('refuses an entry that runs past the end', () => {
    const blob = serializeCertTable({ vcek });
    expectMalformed(blob.subarray(0, blob.length - 1), 'runs past the end');
  });

  it('refuses an entry pointing into the entry list', () => {
    const blob = serializeCertTable({ vcek });
    new DataView(blob.buffer).setUint32(16, 8, true);
    expectMalformed(blob, 'points into the entry list');
  });

  it('refuses a repeated kind and an empty entry', () => {
    const one = serializeCertTable({ vcek, ask });
    one.set(one.subarray(0, 16), 24); // the second entry now claims the first one's kind
    expectMalformed(one, 'repeats ASK');
    const empty = serializeCertTable({ vcek });
    new DataView(empty.buffer).setUint32(20, 0, true);
    expectMalformed(empty, 'is empty');
  });

  it('never throws anything but malformed_evidence on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          parseCertTable(bytes);
        } catch (e) {
          return isSealgateError(e, 'malformed_evidence');
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
