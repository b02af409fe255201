/**
 * The worker configuration document (docs/protocol.md "Worker configuration") and its place in
 * REPORT_DATA: canonical bytes only, closed members, and a binding that, without digests, is
 * byte-identical to the keys-only one.
 */
import { describe, expect, it } from 'vitest';
import { computeReportData, type ReportDataBinding } from '../../src/attestation/report-data.js';
import {
  encodeWorkerConfig,
  parseWorkerConfig,
  workerConfig,
  workerConfigDigestHex,
} from '../../src/attestation/worker-config.js';
import { concatBytes, fromHex, sha256, toHex, utf8 } from '../../src/bytes.js';
import { isSealgateError } from '../../src/errors.js';

describe('worker configuration document', () => {
  it('is the RFC 8785 form of {v, model: {endpoint, apiKey}}; its digest is SHA-256 of those bytes', async () => {
    const builtin = encodeWorkerConfig(workerConfig({ apiKey: false }));
    expect(utf8.decode(builtin)).toBe('{"model":{"apiKey":false,"endpoint":"builtin"},"v":1}');
    const upstream = encodeWorkerConfig(workerConfig({ url: 'HTTP://127.0.0.1:8000/v1/', apiKey: true }));
    expect(utf8.decode(upstream)).toBe('{"model":{"apiKey":true,"endpoint":"http://127.0.0.1:8000"},"v":1}');
    expect(await workerConfigDigestHex(builtin)).toBe(toHex(await sha256(builtin)));
    expect(parseWorkerConfig(upstream)).toEqual({
      v: 1,
      model: { endpoint: 'http://127.0.0.1:8000', apiKey: true },
    });
  });

  it('refuses an API key without an endpoint (it would be silently ignored)', () => {
    expect(() => workerConfig({ apiKey: true })).toThrow('MODEL_API_KEY is set but MODEL_URL is not');
  });

  it.each([
    ['{"model":{"apiKey":false,"endpoint":"builtin"},"v":1} ', 'canonical'],
    ['{"v":1,"model":{"apiKey":false,"endpoint":"builtin"}}', 'canonical'],
    ['{"model":{"apiKey":false,"endpoint":"builtin"},"v":2}', 'version'],
    ['{"model":{"apiKey":true,"endpoint":"builtin"},"v":1}', 'no API key'],
    ['{"model":{"apiKey":false,"endpoint":"http://127.0.0.1:8000/v1"},"v":1}', 'normalized'],
    ['{"model":{"apiKey":false,"endpoint":"http://u@127.0.0.1"},"v":1}', 'normalized'],
    ['{"model":{"apiKey":0,"endpoint":"builtin"},"v":1}', 'boolean'],
    ['{"model":{"apiKey":false},"v":1}', 'exactly'],
    ['{"model":{"apiKey":false,"endpoint":"builtin","key":"sk"},"v":1}', 'exactly'],
    ['{"model":{"apiKey":false,"endpoint":"builtin"},"proxy":null,"v":1}', 'exactly'],
    ['{"model":{"apiKey":false,"endpoint":"builtin"},"v":1,"v":1}', 'strict'],
    ['[]', 'object'],
    ['', 'bytes'],
  ])('refuses %s', (text, why) => {
    let error: unknown;
    try {
      parseWorkerConfig(utf8.encode(text));
    } catch (e) {
      error = e;
    }
    expect(isSealgateError(error, 'malformed_evidence')).toBe(true);
    expect((error as Error).message).toContain(why);
  });
});

describe('REPORT_DATA with bound digests', () => {
  const base: ReportDataBinding = {
    role: 'worker',
    nonce: new Uint8Array(32).fill(1),
    manifestDigest: 'ab'.repeat(32),
    keys: { hpke: fromHex('01') },
  };
  const config = new Uint8Array(32).fill(0xcf);

  it('appends u32(count) ‖ (lp(name) ‖ lp(digest))* after the keys (independent re-computation)', async () => {
    const u32 = (n: number) => fromHex(n.toString(16).padStart(8, '0'));
    const lp = (b: Uint8Array) => concatBytes(u32(b.length), b);
    const expected = await crypto.subtle.digest(
      'SHA-512',
      concatBytes(
        utf8.encode('sealgate/v1/report-data'),
        lp(utf8.encode('worker')),
        lp(base.nonce),
        lp(fromHex('ab'.repeat(32))),
        u32(1),
        lp(utf8.encode('hpke')),
        lp(fromHex('01')),
        u32(2),
        lp(utf8.encode('config')),
        lp(config),
        lp(utf8.encode('gpu')),
        lp(new Uint8Array(32)),
      ) as BufferSource,
    );
    const rd = await computeReportData({ ...base, digests: { gpu: new Uint8Array(32), config } });
    expect(toHex(rd)).toBe(toHex(new Uint8Array(expected)));
  });

  it('without digests is the keys-only binding; any digest change changes it', async () => {
    const plain = toHex(await computeReportData(base));
    expect(toHex(await computeReportData({ ...base, digests: {} }))).toBe(plain);
    const bound = toHex(await computeReportData({ ...base, digests: { config } }));
    expect(bound).not.toBe(plain);
    const other = config.slice();
    other[31] = 0xce;
    expect(toHex(await computeReportData({ ...base, digests: { config: other } }))).not.toBe(bound);
    expect(toHex(await computeReportData({ ...base, digests: { confih: config } }))).not.toBe(bound);
  });

  it('refuses a digest that is not 32 bytes or a bad name', async () => {
    await expect(computeReportData({ ...base, digests: { config: new Uint8Array(31) } })).rejects.toThrow(
      '32 bytes',
    );
    await expect(computeReportData({ ...base, digests: { Config: config } })).rejects.toThrow(
      'bad digest name',
    );
  });
});
