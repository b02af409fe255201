/** The SIMULATED GPUs pass the one GPU verifier, under their own root only, for their nonce only. */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import {
  createGpuDeviceChain,
  exportGpuDeviceChain,
  importGpuDeviceChain,
} from '../../../src/platform/simulator/gpu-device-chain.js';
import { gpuChainResponder } from '../../../src/platform/simulator/gpu-ocsp-responder.js';
import {
  SIMULATED_GPU_DRIVER,
  SIMULATED_GPU_VBIOS,
  SimulatedGpuProvider,
  simulatedGpuMeasurements,
} from '../../../src/platform/simulator/simulated-gpu.js';
import { evaluateGpu } from '../../../src/policy/evaluate-gpu.js';
import { NVIDIA_GPU_ROOTS } from '../../../src/verify/nvidia/nvidia-roots.js';
import { verifyGpuEvidence } from '../../../src/verify/nvidia/verify-gpu.js';

const now = new Date('2026-01-01T00:00:00Z');
const nonce = new Uint8Array(32).fill(7);

describe('simulated GPUs', async () => {
  const chain = await createGpuDeviceChain({ now });
  const measurements = await simulatedGpuMeasurements();
  const roots = { device: [chain.rootSha256], rim: [] };

  it('verify under the simulated root and meet golden values', async () => {
    const [gpu] = await new SimulatedGpuProvider(chain, measurements, 1).getGpuEvidence(nonce);
    const r = await verifyGpuEvidence({ evidence: gpu!.evidence, chain: gpu!.chain, nonce, at: now, roots });
    expect(r.violations).toEqual([]);
    expect(r.claims?.driverVersion).toBe(SIMULATED_GPU_DRIVER);
    expect(r.claims?.vbiosVersion).toBe(SIMULATED_GPU_VBIOS);
    expect(r.claims?.project).toBe('SIMULATED');
    const ref = {
      count: { min: 1, max: 1 },
      architecture: 'hopper' as const,
      driverVersions: [SIMULATED_GPU_DRIVER],
      vbiosVersions: [SIMULATED_GPU_VBIOS],
      measurements: {
        source: 'golden' as const,
        golden: measurements.map((m, i) => ({ index: i + 1, values: [toHex(m)] })),
      },
    };
    expect(evaluateGpu([r.claims!], ref)).toEqual([]);
  });

  it('are refused under NVIDIA roots, for another nonce, and when a bit flips', async () => {
    const [gpu] = await new SimulatedGpuProvider(chain, measurements, 1).getGpuEvidence(nonce);
    const at = now;
    const codes = async (input: Parameters<typeof verifyGpuEvidence>[0]) =>
      (await verifyGpuEvidence(input)).violations.map((v) => v.code);
    const base = { evidence: gpu!.evidence, chain: gpu!.chain, nonce, at, roots };
    expect(await codes({ ...base, roots: NVIDIA_GPU_ROOTS })).toContain('root_untrusted');
    expect(await codes({ ...base, nonce: new Uint8Array(32) })).toEqual(['nonce_mismatch']);
    const flipped = gpu!.evidence.slice();
    flipped[60]! ^= 1; // inside block 1's value (37 + 8 + 4 + 3 = 52 is its first byte)
    expect(await codes({ ...base, evidence: flipped })).toContain('report_signature_invalid');
  });

  it('keep their chain across export and import', async () => {
    const again = await importGpuDeviceChain(JSON.parse(JSON.stringify(await exportGpuDeviceChain(chain))));
    expect(again.rootSha256).toBe(chain.rootSha256);
    const [gpu] = await new SimulatedGpuProvider(again, measurements, 1).getGpuEvidence(nonce);
    const r = await verifyGpuEvidence({ evidence: gpu!.evidence, chain: gpu!.chain, nonce, at: now, roots });
    expect(r.violations).toEqual([]);
  });

  it('keep their CA keys across export and import: OCSP answers signed after import verify', async () => {
    const again = await importGpuDeviceChain(JSON.parse(JSON.stringify(await exportGpuDeviceChain(chain))));
    const responder = await gpuChainResponder(again, () => now);
    const [gpu] = await new SimulatedGpuProvider(again, measurements, 1).getGpuEvidence(nonce);
    const r = await verifyGpuEvidence({
      evidence: gpu!.evidence,
      chain: gpu!.chain,
      nonce,
      at: now,
      roots,
      revocation: { policy: 'require', fetch: { post: responder.post } },
    });
    expect(r.violations).toEqual([]);
    expect(r.claims?.revocation?.certificates.map((c) => c.status)).toEqual(['good', 'good', 'good']);
  });

  it('refuse a version-1 chain file (it kept no CA keys)', async () => {
    const json = { ...(await exportGpuDeviceChain(chain)), version: 1, caKeys: undefined };
    await expect(importGpuDeviceChain(json)).rejects.toThrow(/version-2/);
  });
});
