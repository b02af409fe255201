/**
 * The attestation service checks its workers' GPU certificates for revocation (issue #15): the
 * REAL service over HTTP, its real OCSP fetcher (src/dev/gpu-ocsp.ts), and a real simulated
 * responder over HTTP in this process (src/dev/ocsp-responder-server.ts) for the simulated GPU
 * chain. Under the worker role's default `gpu.ocsp: "require"` a GPU is registered only with a
 * verified good answer for each of its device chain's CA certificates; each refusal below is an
 * attack (a revoked intermediate, a blocked responder, a forged answer) that registered workers
 * before the service passed its policy to verifyGpuEvidence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveGpuNonce } from '../../src/attestation/gpu-binding.js';
import { type RunningService, startService } from '../../src/attestation-service/main.js';
import { fromBase64Url } from '../../src/bytes.js';
import { parseX509Certificate } from '../../src/der/certificate.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { nodeGpuOcsp } from '../../src/dev/gpu-ocsp.js';
import { serveOcspResponder } from '../../src/dev/ocsp-responder-server.js';
import type { Listening } from '../../src/dev/serve.js';
import { createGpuDeviceChain } from '../../src/platform/simulator/gpu-device-chain.js';
import { gpuChainResponder } from '../../src/platform/simulator/gpu-ocsp-responder.js';
import type { SimulatedStatus } from '../../src/platform/simulator/nvidia-ocsp.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import type { LogEntry } from './support.js';
import { makeWorkerIdentity, type TestWorker, workerBundle } from './support.js';

let env: DevelopmentEnvironment;
let worker: TestWorker;
const running: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: new Date(), gpus: 1 });
  worker = await makeWorkerIdentity();
}, 240_000);
afterAll(async () => {
  for (const r of running.reverse()) await r.close();
});

/** A responder over HTTP for `chain` (default the worker's), answering `statusOf`; counts requests. */
async function responder(
  statusOf?: (serial: string) => SimulatedStatus,
  chain = env.gpuChain,
): Promise<Listening & { asked: string[] }> {
  const inner = await gpuChainResponder(chain, () => new Date(), statusOf);
  const asked: string[] = [];
  const listening = await serveOcspResponder({
    post: async (url, body) => {
      const der = await inner.post(url, body);
      asked.push(inner.requests.at(-1)!.serialNumber);
      return der;
    },
  });
  running.push(listening);
  return { ...listening, asked };
}

/** The dev environment with the worker role's `gpu.ocsp` set (the worker presents the same manifest). */
async function withOcspPolicy(policy: 'require' | 'best-effort'): Promise<DevelopmentEnvironment> {
  const m = JSON.parse(env.manifestText) as { roles: { worker: { gpu: Record<string, unknown> } } };
  m.roles.worker.gpu.ocsp = policy;
  const manifestText = `${JSON.stringify(m, null, 2)}\n`;
  const manifestBytes = new TextEncoder().encode(manifestText);
  return {
    ...env,
    manifestText,
    manifestBytes,
    manifest: parseManifest(manifestBytes),
    manifestDigest: await manifestDigest(manifestBytes),
  };
}

async function serve(e: DevelopmentEnvironment, ocspUrl: string, logs: LogEntry[]): Promise<RunningService> {
  const s = await startService({
    manifestBytes: e.manifestBytes,
    platform: e.servicePlatform,
    port: 0,
    log: (level, event, detail = {}) => logs.push({ level, event, detail }),
    gpuOcsp: nodeGpuOcsp(ocspUrl),
  });
  running.push(s);
  return s;
}

/** Registers a worker with fresh GPU evidence; the status and the violation codes logged. */
async function register(
  e: DevelopmentEnvironment,
  ocspUrl: string,
): Promise<{ status: number; codes: string[]; logs: LogEntry[] }> {
  const logs: LogEntry[] = [];
  const svc = await serve(e, ocspUrl, logs);
  const post = (path: string, body: unknown) =>
    fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const { nonce } = (await (await post('/v1/workers/challenge', {})).json()) as { nonce: string };
  const challenge = fromBase64Url(nonce);
  const gpus = await env.workerGpus!.getGpuEvidence(await deriveGpuNonce(challenge));
  const res = await post('/v1/workers/register', {
    bundle: await workerBundle(e, worker, challenge, { gpus }),
  });
  await res.arrayBuffer();
  const rejected = logs.find((l) => l.event === 'worker_rejected')?.detail;
  const codes = ((rejected?.violations as { code: string }[] | undefined) ?? []).map((v) => v.code);
  return { status: res.status, codes, logs };
}

/** The hex serial of the device chain's certificate `i` (1: BROM, 2: provisioner ICA, 3: arch CA). */
async function serialOf(i: number): Promise<string> {
  return (await parseX509Certificate(env.gpuChain.certificates[i]!)).serialNumber;
}

/** A URL where nothing listens: a responder started, then stopped. */
async function downUrl(): Promise<string> {
  const r = await serveOcspResponder({ post: async () => new Uint8Array() });
  await r.close();
  return r.url;
}

describe('the service checks GPU revocation under "require" (the default)', () => {
  it('registers a worker whose GPU certificates the responder says are good', async () => {
    const r = await responder();
    const out = await register(env, r.url);
    expect(out).toMatchObject({ status: 200, codes: [] });
    // Every certificate but the leaf (no responder knows it) and the root.
    expect([...r.asked].sort()).toEqual([await serialOf(1), await serialOf(2), await serialOf(3)].sort());
  });

  it('refuses a worker whose GPU chain has a revoked intermediate (cert_revoked)', async () => {
    const revoked = await serialOf(2);
    const r = await responder((s) =>
      s === revoked ? { kind: 'revoked', at: new Date(Date.now() - 86_400_000) } : { kind: 'good' },
    );
    const out = await register(env, r.url);
    expect(out.status).toBe(403);
    expect(out.codes).toEqual(['cert_revoked']);
  });

  it('refuses a worker when the responder cannot be reached (ocsp_unavailable)', async () => {
    const out = await register(env, await downUrl());
    expect(out.status).toBe(403);
    expect(out.codes).toEqual(['ocsp_unavailable', 'ocsp_unavailable', 'ocsp_unavailable']);
  });

  it('refuses answers signed by keys that did not issue the certificates', async () => {
    // Same certificates, another chain's CA keys: a forger who can answer but holds no CA key.
    const other = await createGpuDeviceChain({ now: new Date() });
    const r = await responder(undefined, { ...env.gpuChain, caKeys: other.caKeys });
    const out = await register(env, r.url);
    expect(out.status).toBe(403);
    expect(out.codes.length).toBeGreaterThan(0);
    expect(new Set(out.codes)).toEqual(new Set(['ocsp_signature_invalid']));
  });

  it('refuses with an explicit "require" exactly as with the default', async () => {
    const out = await register(await withOcspPolicy('require'), await downUrl());
    expect(out.status).toBe(403);
    expect(out.codes).toContain('ocsp_unavailable');
  });
});

describe('"best-effort"', () => {
  it('registers a worker when the responder is down, and says which certificate went unchecked', async () => {
    const out = await register(await withOcspPolicy('best-effort'), await downUrl());
    expect(out).toMatchObject({ status: 200, codes: [] });
    const warned = out.logs.find((l) => l.event === 'gpu_revocation_unchecked');
    expect(warned?.level).toBe('warn');
    const unchecked = warned?.detail.unchecked as { gpu: number; warning: string }[];
    expect(unchecked).toHaveLength(3);
    expect(unchecked.every((u) => u.gpu === 0 && /revocation not checked/.test(u.warning))).toBe(true);
  });

  it('still refuses a revoked certificate', async () => {
    const revoked = await serialOf(1);
    const r = await responder((s) =>
      s === revoked ? { kind: 'revoked', at: new Date(Date.now() - 86_400_000) } : { kind: 'good' },
    );
    const out = await register(await withOcspPolicy('best-effort'), r.url);
    expect(out.status).toBe(403);
    expect(out.codes).toEqual(['cert_revoked']);
  });
});
