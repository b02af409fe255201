import { describe, expect, it } from 'vitest';
import { computeReportData, type ReportDataBinding } from '../../src/attestation/report-data.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/bytes.js';

const base: ReportDataBinding = {
  role: 'attestation-service',
  nonce: new Uint8Array(32).fill(1),
  manifestDigest: 'ab'.repeat(32),
  keys: { signing: fromHex('0203'), hpke: fromHex('01') },
};

describe('REPORT_DATA binding', () => {
  it('is SHA-512 over the documented encoding (independent re-computation)', async () => {
    const u32 = (n: number) => fromHex(n.toString(16).padStart(8, '0'));
    const lp = (b: Uint8Array) => concatBytes(u32(b.length), b);
    const expected = await crypto.subtle.digest(
      'SHA-512',
      concatBytes(
        utf8.encode('sealgate/v1/report-data'),
        lp(utf8.encode('attestation-service')),
        lp(base.nonce),
        lp(fromHex('ab'.repeat(32))),
        u32(2),
        lp(utf8.encode('hpke')),
        lp(fromHex('01')),
        lp(utf8.encode('signing')),
        lp(fromHex('0203')),
      ) as BufferSource,
    );
    const rd = await computeReportData(base);
    expect(rd.length).toBe(64);
    expect(toHex(rd)).toBe(toHex(new Uint8Array(expected)));
  });

  it('changes with every bound input', async () => {
    const ref = toHex(await computeReportData(base));
    const variants: ReportDataBinding[] = [
      { ...base, role: 'worker' },
      { ...base, nonce: new Uint8Array(32).fill(2) },
      { ...base, manifestDigest: 'ac'.repeat(32) },
      { ...base, keys: { ...base.keys, hpke: fromHex('02') } },
      { ...base, keys: { hpke: fromHex('01') } },
      // moving a byte from one key to the next must not collide (length prefixes)
      { ...base, keys: { hpke: fromHex('0102'), signing: fromHex('03') } },
    ];
    for (const b of variants) expect(toHex(await computeReportData(b))).not.toBe(ref);
  });

  it('does not depend on the order keys are listed in', async () => {
    const a = await computeReportData(base);
    const b = await computeReportData({ ...base, keys: { hpke: fromHex('01'), signing: fromHex('0203') } });
    expect(a).toEqual(b);
  });

  it.each([
    [{ ...base, nonce: new Uint8Array(31) }, 'nonce must be 32 bytes'],
    [{ ...base, manifestDigest: 'AB'.repeat(32) }, 'manifest digest must be 64 lower-case hex'],
    [{ ...base, role: 'gateway' as never }, 'unknown role "gateway"'],
    [{ ...base, keys: { 'Bad Name': fromHex('01') } }, 'bad key name "Bad Name"'],
    [{ ...base, keys: { hpke: new Uint8Array(0) } }, 'key hpke must be non-empty bytes'],
  ])('refuses bad input (%#)', async (b, message) => {
    await expect(computeReportData(b)).rejects.toThrow(message);
  });
});
