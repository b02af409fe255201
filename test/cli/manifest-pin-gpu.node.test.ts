/**
 * `sealgate manifest pin … --gpu-evidence --gpu-chain [--rim]…` on the REAL vectors: the worker's
 * `gpu` values pin what the verified GPU shows (RIMs when given, else golden measurements), the
 * pinned manifest then accepts that GPU in `verify-gpu` and rejects another one, and evidence that
 * does not verify is never pinned.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { vectors } from '../support/vectors.js';

const v = vectors();
const dir = resolve(v.present ? (process.env.SEALGATE_TESTDATA ?? '../shared/testdata') : '.');
const tmp = mkdtempSync(join(tmpdir(), 'sealgate-pin-gpu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const AT = '2024-01-01T00:00:00Z';
const snp = join(dir, 'snp', 'milan-v2-virtee');
const gpuSet = (name: string) => join(dir, 'nvidia', name);
const R545 = gpuSet('hopper-545-with-rims-nvtrust');
const NO_GPU = gpuSet('hopper-test-no-gpu-nvtrust');

function snpFlags(): string[] {
  const e = v.json<{ files: { report: string; endorsement_cert: string; ask_ark_chain: string } }>(
    'snp/milan-v2-virtee/expected.json',
  );
  return [
    '--report',
    join(snp, e.files.report),
    '--cert',
    join(snp, e.files.endorsement_cert),
    '--chain',
    resolve(snp, e.files.ask_ark_chain),
    '--role',
    'worker',
    '--at',
    AT,
  ];
}

const nonceOf = (set: string) =>
  v.json<{ evidence: { request: { nonce: string } } }>(`nvidia/${set}/expected.json`).evidence.request.nonce;

/** The pinned manifest with the worker role's OCSP policy relaxed (the vectors carry no OCSP answers). */
function bestEffortOcsp(text: string): string {
  const m = JSON.parse(text);
  m.roles.worker.gpu.ocsp = 'best-effort';
  return JSON.stringify(m);
}

async function verifyGpu(set: string, manifest: string, rims: string[] = []) {
  return runCli([
    'verify-gpu',
    '--evidence',
    join(gpuSet(set), 'report.bin'),
    '--chain',
    join(gpuSet(set), 'cert_chain.pem'),
    ...rims.flatMap((r) => ['--rim', r]),
    '--nonce',
    nonceOf(set),
    '--manifest',
    manifest,
    '--role',
    'worker',
    '--at',
    AT,
  ]);
}

describe.skipIf(!v.present)('manifest pin with GPU evidence', () => {
  const rims = [
    join(R545, 'driver_rim_test_no_gpu.swidtag'),
    join(R545, 'vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag'),
  ];

  it('pins the RIM-verified GPU, which then verifies under the pinned manifest; another GPU does not', async () => {
    const r = await runCli([
      'manifest',
      'pin',
      ...snpFlags(),
      '--gpu-evidence',
      join(R545, 'report.hex'),
      '--gpu-chain',
      join(R545, 'cert_chain.pem'),
      ...rims.flatMap((f) => ['--rim', f]),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest.roles.worker.gpu).toEqual({
      count: { min: 1, max: 1 },
      architecture: 'hopper',
      driverVersions: ['545.00'],
      vbiosVersions: ['96.00.5e.00.01'],
      measurements: { source: 'rim' },
      allowMissingFwid: true,
    });
    expect(r.stderr).toMatch(/no FWID/);
    const path = join(tmp, 'rim.json');
    writeFileSync(path, r.stdout);
    // As pinned, the role requires OCSP (gpu.ocsp defaults to "require"), and the real vectors come
    // with no saved OCSP answers: refused, closed. Offline, revocation is then waived explicitly.
    const unrevoked = await verifyGpu('hopper-545-with-rims-nvtrust', path, rims);
    expect(unrevoked.exitCode).toBe(1);
    expect(unrevoked.stdout + unrevoked.stderr).toMatch(/ocsp_unavailable/);
    writeFileSync(path, bestEffortOcsp(r.stdout));
    expect((await verifyGpu('hopper-545-with-rims-nvtrust', path, rims)).exitCode).toBe(0);
    const other = await verifyGpu('hopper-test-no-gpu-nvtrust', path);
    expect(other.exitCode).toBe(1);
    expect(other.stdout + other.stderr).toMatch(/gpu_driver_not_allowed/);
  });

  it('pins golden measurements without RIMs', async () => {
    const r = await runCli([
      'manifest',
      'pin',
      ...snpFlags(),
      '--gpu-evidence',
      join(NO_GPU, 'report.bin'),
      '--gpu-chain',
      join(NO_GPU, 'cert_chain.pem'),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const gpu = JSON.parse(r.stdout).roles.worker.gpu;
    expect(gpu.measurements.source).toBe('golden');
    expect(gpu.measurements.golden.length).toBeGreaterThan(0);
    const path = join(tmp, 'golden.json');
    writeFileSync(path, bestEffortOcsp(r.stdout));
    expect((await verifyGpu('hopper-test-no-gpu-nvtrust', path)).exitCode).toBe(0);
  });

  it('refuses to pin GPU evidence that does not verify, and unpaired flags', async () => {
    const bad = Buffer.from(readFileSync(join(NO_GPU, 'report.bin')));
    bad[60]! ^= 1;
    const path = join(tmp, 'bad.bin');
    writeFileSync(path, bad);
    const r = await runCli([
      'manifest',
      'pin',
      ...snpFlags(),
      '--gpu-evidence',
      path,
      '--gpu-chain',
      join(NO_GPU, 'cert_chain.pem'),
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/refusing to pin GPU evidence.*report_signature_invalid/s);
    const unpaired = await runCli(['manifest', 'pin', ...snpFlags(), '--gpu-evidence', path]);
    expect(unpaired.exitCode).toBe(2);
  });
});
