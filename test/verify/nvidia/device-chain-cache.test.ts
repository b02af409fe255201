/**
 * The GPU device-chain cache never changes a verdict: a hit still answers to the caller's roots
 * and time, the SPDM signature and nonce are always checked, and only clean chains are stored.
 */
import { describe, expect, it } from 'vitest';
import { DeviceChainCache } from '../../../src/verify/nvidia/device-chain-cache.js';
import { verifyGpuEvidence } from '../../../src/verify/nvidia/verify-gpu.js';
import { loadGpuSet, v } from './support.js';

const codes = async (input: Parameters<typeof verifyGpuEvidence>[0]) =>
  (await verifyGpuEvidence(input)).violations.map((x) => x.code);

describe.skipIf(!v.present)('DeviceChainCache with real Hopper evidence', () => {
  it('a hit gives the same claims as a cold verification', async () => {
    const { input } = loadGpuSet('hopper-test-no-gpu-nvtrust');
    const cache = new DeviceChainCache();
    const cold = await verifyGpuEvidence({ ...input, chainCache: cache });
    expect(cold.violations).toEqual([]);
    expect(cache.size).toBe(1);
    const warm = await verifyGpuEvidence({ ...input, chainCache: cache });
    expect(warm.claims).toEqual(cold.claims);
    expect(cache.size).toBe(1);
  });

  it("a hit still answers to the caller's roots, time, signature and nonce", async () => {
    const { input } = loadGpuSet('hopper-test-no-gpu-nvtrust');
    const cache = new DeviceChainCache();
    await verifyGpuEvidence({ ...input, chainCache: cache });
    expect(
      await codes({ ...input, chainCache: cache, roots: { device: ['00'.repeat(32)], rim: [] } }),
    ).toContain('root_untrusted');
    expect(await codes({ ...input, chainCache: cache, at: new Date('2001-01-01T00:00:00Z') })).toContain(
      'cert_expired',
    );
    const flipped = input.evidence.slice();
    flipped[60]! ^= 1;
    expect(await codes({ ...input, chainCache: cache, evidence: flipped })).toContain(
      'report_signature_invalid',
    );
    expect(await codes({ ...input, chainCache: cache, nonce: new Uint8Array(32) })).toEqual([
      'nonce_mismatch',
    ]);
  });

  it('stores nothing for a chain that failed', async () => {
    const { input } = loadGpuSet('hopper-test-no-gpu-nvtrust');
    const cache = new DeviceChainCache();
    await verifyGpuEvidence({ ...input, chainCache: cache, roots: { device: ['00'.repeat(32)], rim: [] } });
    await verifyGpuEvidence({ ...input, chainCache: cache, at: new Date('2001-01-01T00:00:00Z') });
    expect(cache.size).toBe(0);
  });

  it('forgets its oldest entry when full', () => {
    const cache = new DeviceChainCache(2);
    const entry = { certs: [], leafKey: {} as CryptoKey };
    cache.set('a', entry);
    cache.set('b', entry);
    cache.set('c', entry);
    expect([cache.get('a'), cache.size]).toEqual([undefined, 2]);
  });
});
