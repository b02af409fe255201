/**
 * evaluateGpu with real claims (the three Hopper sets, verified by verifyGpuEvidence) and the
 * manifest's `gpu` section as parseManifest reads it: each rule passes on the real values and
 * fails, with its own code, when the manifest asks for something else.
 */
import { describe, expect, it } from 'vitest';
import example from '../../manifests/example.json' with { type: 'json' };
import { isSealgateError } from '../../src/errors.js';
import { evaluateGpu } from '../../src/policy/evaluate-gpu.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import type { GpuReferenceValues } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { verifyGpuEvidence } from '../../src/verify/nvidia/verify-gpu.js';
import { loadGpuSet, rimsOf545, v } from '../verify/nvidia/support.js';

const codes = (list: { code: string }[]) => list.map((x) => x.code);

/** example.json with `gpu` under the worker role, through the strict parser. */
function withGpu(gpu: unknown) {
  const doc = structuredClone(example) as { roles: { worker: Record<string, unknown> } };
  doc.roles.worker.gpu = gpu;
  return parseManifest(doc);
}

const HOPPER_550: GpuReferenceValues = {
  count: { min: 1, max: 8 },
  architecture: 'hopper',
  driverVersions: ['550.90.07'],
  vbiosVersions: ['96.00.9f.00.01'],
  measurements: { source: 'golden', golden: [] },
};

function parserIssues(gpu: unknown): string[] {
  try {
    withGpu(gpu);
    return [];
  } catch (e) {
    if (!isSealgateError(e, 'invalid_manifest')) throw e;
    return (e.detail!.errors as { path: string; message: string }[]).map((x) => `${x.path}: ${x.message}`);
  }
}

describe('manifest gpu section', () => {
  it('parses, and leaves manifests without it (and their digests) as they were', async () => {
    const m = withGpu({ ...HOPPER_550, measurements: { source: 'rim' } });
    expect(m.roles.worker!.gpu).toEqual({ ...HOPPER_550, measurements: { source: 'rim' } });
    expect(await manifestDigest(parseManifest(example))).toBe(await manifestDigest(JSON.stringify(example)));
    expect(parseManifest(example).roles.worker!.gpu).toBeUndefined();
  });

  it('reports every mistake with its path', () => {
    const base = { ...HOPPER_550, measurements: { source: 'rim' } };
    const p = '/roles/worker/gpu';
    expect(parserIssues({ ...base, count: { min: 3, max: 2 } })).toEqual([
      `${p}/count: min is greater than max`,
    ]);
    expect(parserIssues({ ...base, count: { min: 0, max: 9 } })).toEqual([
      `${p}/count/max: expected an integer in [1, 8]`,
    ]);
    expect(parserIssues({ ...base, architecture: 'blackwell' })[0]).toMatch(
      /^\/roles\/worker\/gpu\/architecture/,
    );
    expect(parserIssues({ ...base, vbiosVersions: ['96.00.9F.00.01'] })[0]).toMatch(
      /vbiosVersions\/0: expected a version/,
    );
    expect(parserIssues({ ...base, driverVersions: [] })).toEqual([
      `${p}/driverVersions: expected at least one item`,
    ]);
    expect(parserIssues({ ...base, measurements: { source: 'golden' } })).toEqual([
      `${p}/measurements/golden: required with source "golden"`,
    ]);
    expect(
      parserIssues({
        ...base,
        measurements: { source: 'rim', golden: [{ index: 1, values: ['00'.repeat(48)] }] },
      }),
    ).toEqual([`${p}/measurements/golden: golden values are only read with source "golden"`]);
    expect(
      parserIssues({
        ...base,
        measurements: { source: 'golden', golden: [{ index: 0, values: ['00'.repeat(48)] }] },
      }),
    ).toEqual([`${p}/measurements/golden/0/index: expected an integer in [1, 254]`]);
    expect(parserIssues({ ...base, revocation: 'require' })).toEqual([`${p}/revocation: unknown field`]);
    expect(parserIssues({ ...base, ocsp: 'off' })[0]).toMatch(/^\/roles\/worker\/gpu\/ocsp: /);
    expect(parserIssues({ ...base, ocsp: true })[0]).toMatch(/^\/roles\/worker\/gpu\/ocsp: /);
  });

  it('ocsp: "require" or "best-effort"; absent stays absent (the default, require, is applied by verifiers)', () => {
    const base = { ...HOPPER_550, measurements: { source: 'rim' } };
    expect(withGpu({ ...base, ocsp: 'best-effort' }).roles.worker!.gpu!.ocsp).toBe('best-effort');
    expect(withGpu({ ...base, ocsp: 'require' }).roles.worker!.gpu!.ocsp).toBe('require');
    expect(withGpu(base).roles.worker!.gpu!.ocsp).toBeUndefined();
  });
});

describe.skipIf(!v.present)(
  `evaluateGpu on real claims${v.present ? '' : ` (skipped: ${v.skipReason})`}`,
  () => {
    const claimsOf = async (set: string, rims = false) => {
      const { input } = loadGpuSet(set);
      const r = rimsOf545();
      const out = await verifyGpuEvidence({ ...input, ...(rims ? { rims: [r.driver, r.vbios] } : {}) });
      expect(out.violations).toEqual([]);
      return out.claims!;
    };

    it('RIM source: the 545 set with its RIMs passes; without them CC mode is unproven', async () => {
      const ref: GpuReferenceValues = {
        count: { min: 1, max: 1 },
        architecture: 'hopper',
        driverVersions: ['545.00'],
        vbiosVersions: ['96.00.5e.00.01'],
        measurements: { source: 'rim' },
        allowMissingFwid: true,
      };
      const m = withGpu(ref);
      expect(
        evaluateGpu([await claimsOf('hopper-545-with-rims-nvtrust', true)], m.roles.worker!.gpu),
      ).toEqual([]);
      expect(codes(evaluateGpu([await claimsOf('hopper-545-with-rims-nvtrust')], ref))).toEqual([
        'gpu_cc_mode_unproven',
      ]);
      // Pre-R550 reports carry no FWID: refused unless the manifest says so.
      const strict = { ...ref, allowMissingFwid: undefined };
      expect(codes(evaluateGpu([await claimsOf('hopper-545-with-rims-nvtrust', true)], strict))).toEqual([
        'gpu_fwid_mismatch',
      ]);
    });

    it('golden source: pinned values pass, another value fails at its index', async () => {
      const claims = await claimsOf('hopper-test-no-gpu-nvtrust');
      const hex = (i: number) =>
        Array.from(claims.measurements.find((m) => m.index === i)!.value, (b) =>
          b.toString(16).padStart(2, '0'),
        ).join('');
      const golden = [2, 3, 4, 22, 23].map((index) => ({ index, values: [hex(index)] }));
      const ref = { ...HOPPER_550, measurements: { source: 'golden' as const, golden } };
      expect(evaluateGpu([claims], ref)).toEqual([]);
      const wrong = structuredClone(ref);
      wrong.measurements.golden![2]!.values = ['11'.repeat(48)];
      const out = evaluateGpu([claims], wrong);
      expect(codes(out)).toEqual(['gpu_measurement_mismatch']);
      expect(out[0]!.field).toBe('gpus[0].measurements.4');
      expect(codes(evaluateGpu([claims], HOPPER_550))).toEqual(['gpu_cc_mode_unproven']);
    });

    it('count, architecture, driver and VBIOS each fail with their code', async () => {
      const a = await claimsOf('hopper-test-no-gpu-nvtrust');
      const b = await claimsOf('hopper-coco-ci-trustee');
      const golden = { source: 'golden' as const, golden: [{ index: 1, values: ['00'.repeat(48)] }] };
      const ref = { ...HOPPER_550, measurements: golden };
      expect(evaluateGpu([a], ref)).toEqual([]);
      expect(codes(evaluateGpu([], ref))).toEqual(['gpu_count_not_allowed']);
      expect(codes(evaluateGpu([a, a], { ...ref, count: { min: 1, max: 1 } }))).toEqual([
        'gpu_count_not_allowed',
      ]);
      expect(codes(evaluateGpu([a], undefined))).toEqual(['gpu_count_not_allowed']);
      expect(evaluateGpu([], undefined)).toEqual([]);
      expect(codes(evaluateGpu([a, b], ref))).toEqual(['gpu_driver_not_allowed', 'gpu_vbios_not_allowed']);
      expect(evaluateGpu([a, b], ref)[0]!.field).toBe('gpus[1].driverVersion');
      const other = { ...a, architecture: 'blackwell' } as unknown as typeof a;
      expect(codes(evaluateGpu([other], ref))).toEqual(['gpu_architecture_not_allowed']);
    });
  },
);
