/** `trustAnchors.nvidia`: NVIDIA's roots by default, exactly the listed ones otherwise, and the simulator rule. */
import { describe, expect, it } from 'vitest';
import example from '../../manifests/example.json' with { type: 'json' };
import { isSealgateError } from '../../src/errors.js';
import type { ManifestIssue } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { gpuRoots, isSimulatedGpuRoot, manifestTrustsSimulator } from '../../src/policy/trust-anchors.js';
import {
  NVIDIA_DEVICE_IDENTITY_CA_SHA256,
  NVIDIA_GPU_ROOTS,
  NVIDIA_RIM_ROOT_SHA256,
} from '../../src/verify/nvidia/nvidia-roots.js';

const OTHER = 'cd'.repeat(32);

function withAnchors(nvidia: unknown): unknown {
  const m = structuredClone(example) as { trustAnchors: Record<string, unknown> };
  m.trustAnchors.nvidia = nvidia;
  return m;
}

function issues(input: unknown): ManifestIssue[] {
  try {
    parseManifest(input);
  } catch (e) {
    expect(isSealgateError(e, 'invalid_manifest')).toBe(true);
    return (e as { detail: { errors: ManifestIssue[] } }).detail.errors;
  }
  return expect.unreachable('parseManifest accepted the input');
}

describe('trustAnchors.nvidia', () => {
  it("absent: NVIDIA's production roots, nothing simulated", () => {
    const m = parseManifest(example);
    expect(gpuRoots(m)).toEqual(NVIDIA_GPU_ROOTS);
    expect(isSimulatedGpuRoot(m, NVIDIA_DEVICE_IDENTITY_CA_SHA256)).toBe(false);
  });

  it('present: exactly the listed roots, by use; a simulated one makes the manifest simulated', () => {
    const m = parseManifest(
      withAnchors([
        { sha256: OTHER, use: 'device', simulated: true, note: 'dev' },
        { sha256: NVIDIA_RIM_ROOT_SHA256, use: 'rim' },
      ]),
    );
    expect(gpuRoots(m)).toEqual({ device: [OTHER], rim: [NVIDIA_RIM_ROOT_SHA256] });
    expect(isSimulatedGpuRoot(m, OTHER)).toBe(true);
    expect(manifestTrustsSimulator(m)).toBe(true);
  });

  it('refuses an unmarked foreign root, a marked NVIDIA root, a wrong use, bad members', () => {
    const cases: [unknown, string, RegExp][] = [
      [[{ sha256: OTHER, use: 'device' }], '/trustAnchors/nvidia/0/sha256', /needs "simulated": true/],
      [
        [{ sha256: NVIDIA_DEVICE_IDENTITY_CA_SHA256, use: 'device', simulated: true }],
        '/trustAnchors/nvidia/0/simulated',
        /not a simulated one/,
      ],
      [
        [{ sha256: NVIDIA_RIM_ROOT_SHA256, use: 'device' }],
        '/trustAnchors/nvidia/0/use',
        /NVIDIA's rim root/,
      ],
      [[{ sha256: OTHER, use: 'cpu', simulated: true }], '/trustAnchors/nvidia/0/use', /./],
      [
        [{ sha256: OTHER, use: 'device', simulated: false }],
        '/trustAnchors/nvidia/0/simulated',
        /expected true/,
      ],
      [[{ sha256: OTHER, use: 'device', simulated: true, extra: 1 }], '/trustAnchors/nvidia/0/extra', /./],
      [[], '/trustAnchors/nvidia', /at least one/],
    ];
    for (const [nvidia, path, message] of cases) {
      const found = issues(withAnchors(nvidia)).find((i) => i.path === path);
      expect(found?.message, JSON.stringify(nvidia)).toMatch(message);
    }
  });
});
