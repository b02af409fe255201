/**
 * A worker whose role requires GPUs, with the REAL simulator (SNP and GPU): the service issues a
 * certificate and releases keys only when every GPU's evidence verifies, answers the nonce derived
 * from this very challenge, and is the evidence the worker's CPU report binds. Each refusal here
 * is an attack: no GPU, GPU evidence replayed from an earlier challenge, GPU evidence borrowed from
 * another worker, a flipped bit, a GPU chained to a root the manifest does not trust.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveGpuNonce } from '../../src/attestation/gpu-binding.js';
import type { BundleGpu } from '../../src/attestation/gpu-bundle.js';
import { fromBase64Url, sha256, toHex, utf8 } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { canonicalJsonBytes } from '../../src/json/canonical.js';
import { createGpuDeviceChain } from '../../src/platform/simulator/gpu-device-chain.js';
import {
  SIMULATED_GPU_DRIVER,
  SIMULATED_GPU_VBIOS,
  SimulatedGpuProvider,
  simulatedGpuMeasurements,
} from '../../src/platform/simulator/simulated-gpu.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { parseWorkerCertificate } from '../../src/service-client/worker-certificate.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  makeWorkerIdentity,
  T0,
  type TestService,
  type TestWorker,
  workerBundle,
} from './support.js';

let env: DevelopmentEnvironment;
let svc: TestService;
let worker: TestWorker;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0, gpus: 1 });
  svc = await makeService(env);
  worker = await makeWorkerIdentity();
}, ENV_TIMEOUT_MS);

async function challenge(): Promise<Uint8Array> {
  const res = await svc.post('/v1/workers/challenge', {});
  return fromBase64Url(((await res.json()) as { nonce: string }).nonce);
}

async function gpusFor(nonce: Uint8Array, provider = env.workerGpus!): Promise<BundleGpu[]> {
  return provider.getGpuEvidence(await deriveGpuNonce(nonce));
}

/** Registers; the status, the logged violation codes and fields, and the keys released. */
async function register(
  nonce: Uint8Array,
  opts: Parameters<typeof workerBundle>[3],
): Promise<{ status: number; codes: string[]; fields: string[]; keys: number }> {
  const before = svc.logs.length;
  const res = await svc.post('/v1/workers/register', {
    bundle: await workerBundle(env, worker, nonce, opts),
  });
  const rejected = svc.logs.slice(before).find((l) => l.event === 'worker_rejected')?.detail;
  const violations = (rejected?.violations as { code: string; field?: string }[] | undefined) ?? [];
  const out = { codes: violations.map((v) => v.code), fields: violations.map((v) => v.field ?? '') };
  if (res.status !== 200) {
    expect(await errorCode(res)).toBe('attestation_rejected');
    return { status: res.status, ...out, keys: 0 };
  }
  const body = (await res.json()) as { keys: unknown[]; certificate: string };
  expect(body.certificate).toMatch(/^[A-Za-z0-9_-]+$/);
  return { status: 200, ...out, keys: body.keys.length };
}

describe('register: a worker whose role requires one GPU', () => {
  it('is accepted with fresh, bound GPU evidence', async () => {
    const nonce = await challenge();
    const r = await register(nonce, { gpus: await gpusFor(nonce) });
    expect(r).toMatchObject({ status: 200, codes: [] });
    const registered = svc.logs.find((l) => l.event === 'worker_registered')?.detail;
    expect(registered).toMatchObject({ gpus: 1, simulated: true });
  });

  it('gets a certificate that states its GPU claims, and GET /v1/workers lists them', async () => {
    const nonce = await challenge();
    const res = await svc.post('/v1/workers/register', {
      bundle: await workerBundle(env, worker, nonce, { gpus: await gpusFor(nonce) }),
    });
    expect(res.status).toBe(200);
    const cert = await parseWorkerCertificate(
      fromBase64Url(((await res.json()) as { certificate: string }).certificate),
    );
    const measurements = await simulatedGpuMeasurements();
    const expectedMeasurements = Object.fromEntries(measurements.map((m, i) => [String(i + 1), toHex(m)]));
    expect(cert.gpus).toEqual([
      {
        architecture: 'hopper',
        driverVersion: SIMULATED_GPU_DRIVER,
        vbiosVersion: SIMULATED_GPU_VBIOS,
        fwid: toHex(env.gpuChain.fwid),
        leafSha256: toHex(await sha256(env.gpuChain.certificates[0]!)),
        rootSha256: env.gpuChain.rootSha256,
        measurementsSha256: toHex(await sha256(canonicalJsonBytes(expectedMeasurements))),
      },
    ]);
    expect(cert.simulated).toBe(true);
    const listed = (await (await svc.get('/v1/workers')).json()) as {
      data: { serialNumber: string; gpus: unknown }[];
    };
    expect(listed.data.find((w) => w.serialNumber === cert.serialNumber)?.gpus).toEqual(cert.gpus);
  });

  it('is refused without GPU evidence (gpu_count_not_allowed)', async () => {
    const r = await register(await challenge(), {});
    expect(r.status).toBe(403);
    expect(r.codes).toEqual(['gpu_count_not_allowed']);
  });

  it('is refused with GPU evidence replayed from an earlier challenge (nonce_mismatch)', async () => {
    const earlier = await challenge();
    const old = await gpusFor(earlier);
    const nonce = await challenge();
    // Honestly bound in REPORT_DATA: only the GPU nonce gives the replay away.
    const r = await register(nonce, { gpus: old });
    expect(r.status).toBe(403);
    expect(r.codes).toEqual(['nonce_mismatch']);
    expect(r.fields).toEqual(['gpus[0].request.nonce']);
  });

  it('is refused with GPU evidence borrowed from another worker (report_data_mismatch)', async () => {
    const nonce = await challenge();
    // Another machine's GPU answers this same challenge; our CPU report binds our own GPU's evidence.
    const other = new SimulatedGpuProvider(env.gpuChain, await simulatedGpuMeasurements(), 1);
    const r = await register(nonce, { gpus: await gpusFor(nonce, other), boundGpus: await gpusFor(nonce) });
    expect(r.status).toBe(403);
    expect(r.codes).toEqual(['report_data_mismatch']);
  });

  it('is refused with tampered GPU evidence (report_signature_invalid)', async () => {
    const nonce = await challenge();
    const [gpu] = await gpusFor(nonce);
    const evidence = gpu!.evidence.slice();
    evidence[60]! ^= 0x01; // a measurement byte
    const r = await register(nonce, { gpus: [{ ...gpu!, evidence }] });
    expect(r.status).toBe(403);
    expect(r.codes).toEqual(['report_signature_invalid']);
  });

  it('is refused with a GPU whose chain ends in a root the manifest does not trust', async () => {
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

  it('is refused with two GPUs where the role wants one', async () => {
    const nonce = await challenge();
    const two = new SimulatedGpuProvider(env.gpuChain, await simulatedGpuMeasurements(), 2);
    const r = await register(nonce, { gpus: await gpusFor(nonce, two) });
    expect(r.status).toBe(403);
    expect(r.codes).toEqual(['gpu_count_not_allowed']);
  });
});

describe('register: GPUs under a role without `gpu` reference values', () => {
  it('are refused: the role may have no GPU (gpu_count_not_allowed)', async () => {
    const doc = JSON.parse(env.manifestText) as { roles: { worker: Record<string, unknown> } };
    delete doc.roles.worker.gpu; // the simulated GPU root stays trusted: only the policy differs
    const manifestBytes = utf8.encode(JSON.stringify(doc));
    const plain = { ...env, manifestBytes, manifestDigest: await manifestDigest(manifestBytes) };
    const s = await makeService(plain);
    const res = await s.post('/v1/workers/challenge', {});
    const nonce = fromBase64Url(((await res.json()) as { nonce: string }).nonce);
    const gpus = await env.workerGpus!.getGpuEvidence(await deriveGpuNonce(nonce));
    const reg = await s.post('/v1/workers/register', {
      bundle: await workerBundle(plain, worker, nonce, { gpus }),
    });
    expect(reg.status).toBe(403);
    const rejected = s.logs.find((l) => l.event === 'worker_rejected')?.detail;
    expect(((rejected?.violations ?? []) as { code: string }[]).map((v) => v.code)).toEqual([
      'gpu_count_not_allowed',
    ]);
  });
});
