/**
 * Tampering with a real Hopper report (hopper-test-no-gpu-nvtrust, 4117 bytes): every single-bit
 * flip of the signed region L1 (request ‖ response up to the signature, 4021 bytes = 32 168 flips)
 * and of the 96-byte signature (768 flips) is rejected — by the parser or by the signature check.
 * The attestation key is imported once; each flip goes through parseGpuEvidence and, when it
 * parses, the SPDM signature check (WebCrypto). The signed region is swept in 256-byte windows, one
 * test each, so that no single test runs long. A sample also goes through verifyGpuEvidence.
 */
import { describe, expect, it } from 'vitest';
import { parseX509Certificate } from '../../../src/der/certificate.js';
import { isSealgateError } from '../../../src/errors.js';
import { parseGpuEvidence } from '../../../src/evidence/nvidia/parse-evidence.js';
import { importP384Key } from '../../../src/verify/nvidia/ecdsa-chain.js';
import { verifySpdmSignature } from '../../../src/verify/nvidia/spdm-signature.js';
import { verifyGpuEvidence } from '../../../src/verify/nvidia/verify-gpu.js';
import { loadGpuSet, v } from './support.js';

const SET = 'hopper-test-no-gpu-nvtrust';

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** The bits (of `bits`) whose flip is accepted: parses and its signature verifies (WebCrypto). */
async function accepted(report: Uint8Array, key: CryptoKey, bits: number[]): Promise<number[]> {
  const out: number[] = [];
  const BATCH = 256;
  for (let i = 0; i < bits.length; i += BATCH) {
    const verdicts = await Promise.all(
      bits.slice(i, i + BATCH).map(async (bit) => {
        let ev: ReturnType<typeof parseGpuEvidence>;
        try {
          ev = parseGpuEvidence(flip(report, bit));
        } catch (e) {
          if (isSealgateError(e, 'malformed_evidence')) return null;
          throw e;
        }
        return (await verifySpdmSignature(ev, key)).length === 0 ? bit : null;
      }),
    );
    for (const b of verdicts) if (b !== null) out.push(b);
  }
  return out;
}

describe.skipIf(!v.present)(`GPU report tampering${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  const setUp = async () => {
    const set = loadGpuSet(SET);
    const key = (await importP384Key((await parseX509Certificate(set.certs[0]!)).spki))!;
    const report = set.input.evidence;
    const signedEnd = parseGpuEvidence(report).signedBytes.length;
    expect(signedEnd).toBe(set.expected.evidence.signed_len);
    return { set, key, report, signedEnd };
  };

  it('the untouched report verifies under the key (the sweep is meaningful)', async () => {
    const { key, report } = await setUp();
    expect(await accepted(report, key, [])).toEqual([]);
    expect(await verifySpdmSignature(parseGpuEvidence(report), key)).toEqual([]);
  });

  // 4021 signed bytes (expected.json signed_len) in windows of 256.
  const WINDOW = 256;
  for (let start = 0; start < 4021; start += WINDOW) {
    const end = Math.min(start + WINDOW, 4021);
    it(`rejects every single-bit flip of signed bytes [${start}, ${end})`, async () => {
      const { key, report, signedEnd } = await setUp();
      expect(signedEnd).toBe(4021);
      const bits = Array.from({ length: (end - start) * 8 }, (_, i) => start * 8 + i);
      expect(await accepted(report, key, bits)).toEqual([]);
    });
  }

  it('rejects every single-bit flip of the signature', async () => {
    const { key, report, signedEnd } = await setUp();
    const bits = Array.from({ length: 96 * 8 }, (_, i) => signedEnd * 8 + i);
    expect(await accepted(report, key, bits)).toEqual([]);
  });

  it('a sample of flips through verifyGpuEvidence: each yields a violation and no claims', async () => {
    const { set, report, signedEnd } = await setUp();
    const total = (signedEnd + 96) * 8;
    for (let k = 0; k < 40; k++) {
      const bit = Math.floor((k * total) / 40) + (k % 8);
      const r = await verifyGpuEvidence({ ...set.input, evidence: flip(report, bit) });
      expect(r.claims).toBeNull();
      expect(r.violations.length).toBeGreaterThan(0);
    }
  });
});
