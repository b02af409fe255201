/**
 * Where the service program asks OCSP for GPU certificates (src/attestation-service/gpu-ocsp-env.ts):
 * a configured responder is asked over HTTP; a simulated service without one answers for its own
 * simulated GPU chain in process, or asks no one — never NVIDIA's responder.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuOcspFromEnv } from '../../src/attestation-service/gpu-ocsp-env.js';
import { loadOrCreateGpuChain } from '../../src/dev/files.js';
import { serveOcspResponder } from '../../src/dev/ocsp-responder-server.js';
import type { GpuDeviceChain } from '../../src/platform/simulator/gpu-device-chain.js';
import { gpuChainResponder } from '../../src/platform/simulator/gpu-ocsp-responder.js';
import {
  SimulatedGpuProvider,
  simulatedGpuMeasurements,
} from '../../src/platform/simulator/simulated-gpu.js';
import type { OcspFetchOptions } from '../../src/verify/nvidia/ocsp-fetch.js';
import { verifyGpuEvidence } from '../../src/verify/nvidia/verify-gpu.js';

const now = () => new Date();
let dir: string;
let path: string;
let chain: GpuDeviceChain;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-gpu-ocsp-'));
  path = join(dir, 'gpu-chain.json');
  chain = await loadOrCreateGpuChain(path, { now: now() });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The revocation statuses the simulated GPU's chain gets with `fetch` under "require". */
async function statuses(fetch: OcspFetchOptions | undefined): Promise<{ codes: string[]; status: string[] }> {
  const nonce = new Uint8Array(32).fill(3);
  const [gpu] = await new SimulatedGpuProvider(chain, await simulatedGpuMeasurements(), 1).getGpuEvidence(
    nonce,
  );
  const r = await verifyGpuEvidence({
    evidence: gpu!.evidence,
    chain: gpu!.chain,
    nonce,
    at: now(),
    roots: { device: [chain.rootSha256], rim: [] },
    revocation: { policy: 'require', ...(fetch ? { fetch } : {}) },
  });
  return {
    codes: r.violations.map((v) => v.code),
    status: r.claims?.revocation?.certificates.map((c) => c.status) ?? [],
  };
}

describe('gpuOcspFromEnv', () => {
  it('asks SEALGATE_GPU_OCSP_URL over HTTP', async () => {
    const served = await serveOcspResponder(await gpuChainResponder(chain, now));
    try {
      const { gpuOcsp } = await gpuOcspFromEnv(
        { SEALGATE_GPU_OCSP_URL: served.url },
        { simulated: true, now },
      );
      expect(gpuOcsp?.url).toBe(served.url);
      expect(await statuses(gpuOcsp)).toEqual({ codes: [], status: ['good', 'good', 'good'] });
    } finally {
      await served.close();
    }
  });

  it('on the simulator, answers for SEALGATE_DEV_GPU_CHAIN in process', async () => {
    const { gpuOcsp } = await gpuOcspFromEnv({ SEALGATE_DEV_GPU_CHAIN: path }, { simulated: true, now });
    expect(await statuses(gpuOcsp)).toEqual({ codes: [], status: ['good', 'good', 'good'] });
  });

  it('on the simulator without either, asks no one, so "require" refuses', async () => {
    const { gpuOcsp } = await gpuOcspFromEnv({}, { simulated: true, now });
    expect(gpuOcsp).toBeUndefined();
    expect((await statuses(gpuOcsp)).codes).toEqual([
      'ocsp_unavailable',
      'ocsp_unavailable',
      'ocsp_unavailable',
    ]);
  });

  it('on real hardware, asks over HTTP with no fixed responder (each certificate AIA, else NVIDIA)', async () => {
    const { gpuOcsp } = await gpuOcspFromEnv({}, { simulated: false, now });
    expect(gpuOcsp).toBeDefined();
    expect(gpuOcsp?.url).toBeUndefined();
    expect(gpuOcsp?.cache).toBeDefined();
  });

  it('replaces a version-1 chain file (no CA keys) with a new chain that has them', async () => {
    const old = join(dir, 'v1.json');
    await writeFile(old, JSON.stringify({ kind: 'sealgate-simulated-gpu-chain', version: 1 }));
    const made = await loadOrCreateGpuChain(old, { now: now() });
    expect(made.caKeys).toHaveLength(4);
    const kept = JSON.parse(await readFile(old, 'utf8')) as { version: number };
    expect(kept.version).toBe(2);
    expect((await loadOrCreateGpuChain(old, { now: now() })).rootSha256).toBe(made.rootSha256);
  });
});
