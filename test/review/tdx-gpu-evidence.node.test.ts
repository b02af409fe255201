/**
 * Hostile GPU evidence from a worker on simulated Intel TDX (simulated GPUs on the TDX stack). The real service app, the real TDX and GPU
 * simulators, the simulated GPU chain's OCSP responder. Held: the GPU check is the same for both
 * TEEs (src/attestation/check-bundle-gpus.ts runs before the platform's verifier), and each attack
 * below is refused with the code of the SEV-SNP case (test/attestation-service/app-worker-gpus).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveGpuNonce } from '../../src/attestation/gpu-binding.js';
import type { BundleGpu } from '../../src/attestation/gpu-bundle.js';
import { fromBase64Url, utf8 } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { createTdxDevelopmentEnvironment } from '../../src/dev/environment-tdx.js';
import { createGpuDeviceChain } from '../../src/platform/simulator/gpu-device-chain.js';
import {
  SimulatedGpuProvider,
  simulatedGpuMeasurements,
} from '../../src/platform/simulator/simulated-gpu.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  makeWorkerIdentity,
  T0,
  type TestService,
  type TestWorker,
  workerBundle,
} from '../attestation-service/support.js';

// The service helpers take an SEV-SNP environment; they use only its manifest, platforms and GPUs,
// which the TDX environment has with the same names (TdxDevelopmentEnvironment extends it).
let tdx: DevelopmentEnvironment;
let svc: TestService;
let worker: TestWorker;

beforeAll(async () => {
  tdx = (await createTdxDevelopmentEnvironment({
    now: T0,
    clock: () => T0,
    gpus: 1,
  })) as unknown as DevelopmentEnvironment;
  svc = await makeService(tdx);
  worker = await makeWorkerIdentity();
}, ENV_TIMEOUT_MS);

async function challenge(s = svc): Promise<Uint8Array> {
  const res = await s.post('/v1/workers/challenge', {});
  return fromBase64Url(((await res.json()) as { nonce: string }).nonce);
}

async function gpusFor(nonce: Uint8Array, provider = tdx.workerGpus!): Promise<BundleGpu[]> {
  return provider.getGpuEvidence(await deriveGpuNonce(nonce));
}

/** Registers a TD worker; the status, the violation codes logged, the keys released. */
async function register(
  nonce: Uint8Array,
  opts: Parameters<typeof workerBundle>[3],
  s = svc,
  env = tdx,
): Promise<{ status: number; codes: string[]; keys: number }> {
  const before = s.logs.length;
  const res = await s.post('/v1/workers/register', { bundle: await workerBundle(env, worker, nonce, opts) });
  const rejected = s.logs.slice(before).find((l) => l.event === 'worker_rejected')?.detail;
  const codes = ((rejected?.violations ?? []) as { code: string }[]).map((v) => v.code);
  if (res.status !== 200) {
    expect(await errorCode(res)).toBe('attestation_rejected');
    return { status: res.status, codes, keys: 0 };
  }
  return { status: 200, codes, keys: ((await res.json()) as { keys: unknown[] }).keys.length };
}

describe('a TD worker whose role requires one GPU (held)', () => {
  it('is accepted with fresh GPU evidence bound into its TD quote (the control)', async () => {
    const nonce = await challenge();
    expect((await workerBundle(tdx, worker, nonce)).platform).toBe('tdx'); // a TD quote, not a report
    const r = await register(nonce, { gpus: await gpusFor(nonce) });
    expect(r).toMatchObject({ status: 200, codes: [] });
    expect(svc.logs.findLast((l) => l.event === 'worker_registered')?.detail).toMatchObject({ gpus: 1 });
  });

  it('is refused claiming no GPU (gpu_count_not_allowed)', async () => {
    expect(await register(await challenge(), {})).toMatchObject({
      status: 403,
      codes: ['gpu_count_not_allowed'],
    });
  });

  it('is refused with GPU evidence for an earlier challenge (nonce_mismatch)', async () => {
    const old = await gpusFor(await challenge());
    const r = await register(await challenge(), { gpus: old });
    expect(r).toMatchObject({ status: 403, codes: ['nonce_mismatch'] });
  });

  it('is refused with GPU evidence made for an SEV-SNP service session (nonce_mismatch)', async () => {
    const snp = await createDevelopmentEnvironment({ now: T0, gpus: 1 });
    const snpService = await makeService(snp);
    // The same GPU, honestly asked by an SEV-SNP session; replayed to the TDX service.
    const fromSnp = await gpusFor(await challenge(snpService));
    const r = await register(await challenge(), { gpus: fromSnp });
    expect(r).toMatchObject({ status: 403, codes: ['nonce_mismatch'] });
  });

  it("is refused with another machine's GPU answering this challenge (report_data_mismatch)", async () => {
    const nonce = await challenge();
    const other = new SimulatedGpuProvider(tdx.gpuChain, await simulatedGpuMeasurements(), 1);
    const r = await register(nonce, { gpus: await gpusFor(nonce, other), boundGpus: await gpusFor(nonce) });
    expect(r).toMatchObject({ status: 403, codes: ['report_data_mismatch'] });
  });

  it('is refused when its TD quote does not bind the GPU evidence it presents (report_data_mismatch)', async () => {
    const nonce = await challenge();
    const r = await register(nonce, { gpus: await gpusFor(nonce), boundGpus: [] });
    expect(r).toMatchObject({ status: 403, codes: ['report_data_mismatch'] });
  });

  it('is refused claiming two GPUs where the manifest allows one (gpu_count_not_allowed)', async () => {
    const nonce = await challenge();
    const two = new SimulatedGpuProvider(tdx.gpuChain, await simulatedGpuMeasurements(), 2);
    expect(await register(nonce, { gpus: await gpusFor(nonce, two) })).toMatchObject({
      status: 403,
      codes: ['gpu_count_not_allowed'],
    });
  });

  it('is refused with a GPU chained to a root the manifest does not trust (root_untrusted)', async () => {
    const nonce = await challenge();
    const foreign = new SimulatedGpuProvider(
      await createGpuDeviceChain({ now: T0 }),
      await simulatedGpuMeasurements(),
      1,
    );
    const r = await register(nonce, { gpus: await gpusFor(nonce, foreign) });
    expect(r.status).toBe(403);
    expect(r.codes).toContain('root_untrusted');
  });

  it('is refused presenting GPUs under a TDX manifest whose worker role has no `gpu`', async () => {
    const doc = JSON.parse(tdx.manifestText) as { roles: { worker: Record<string, unknown> } };
    delete doc.roles.worker.gpu;
    const manifestBytes = utf8.encode(JSON.stringify(doc));
    const plain = { ...tdx, manifestBytes, manifestDigest: await manifestDigest(manifestBytes) };
    const s = await makeService(plain);
    const nonce = await challenge(s);
    const r = await register(nonce, { gpus: await gpusFor(nonce) }, s, plain);
    expect(r).toMatchObject({ status: 403, codes: ['gpu_count_not_allowed'] });
  });
});
