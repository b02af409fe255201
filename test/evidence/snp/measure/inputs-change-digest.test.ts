/**
 * Property: the launch digest commits to every input. Changing any single one (command line,
 * kernel, initrd, vCPU count, signature, guest features, VMM, an OVMF byte, the OVMF hash) changes
 * it; the same input gives the same digest. Synthetic OVMF (no vectors needed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../../src/bytes.js';
import { computeSnpLaunchDigest, type SnpLaunchInput } from '../../../../src/evidence/snp/measure/measure.js';
import { VMMS } from '../../../../src/evidence/snp/measure/vmsa.js';
import { syntheticOvmf } from './synthetic-ovmf.js';

const OVMF = syntheticOvmf();

const input = fc.record({
  vcpus: fc.integer({ min: 1, max: 6 }),
  vcpuSignature: fc.integer({ min: 0, max: 0xffffffff }),
  vmm: fc.constantFrom(...VMMS),
  guestFeatures: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  kernel: fc.uint8Array({ maxLength: 64 }),
  initrd: fc.uint8Array({ maxLength: 64 }),
  cmdline: fc.string({ maxLength: 40 }).filter((s) => !s.includes('\0')),
});
type Drawn = typeof input extends fc.Arbitrary<infer T> ? T : never;

function launch(d: Drawn, ovmf = OVMF, ovmfHash?: Uint8Array): SnpLaunchInput {
  return {
    ovmf,
    ...(ovmfHash ? { ovmfHash } : {}),
    vcpus: d.vcpus,
    vcpuSignature: d.vcpuSignature,
    vmm: d.vmm,
    guestFeatures: d.guestFeatures,
    directBoot: { kernel: d.kernel, initrd: d.initrd, cmdline: d.cmdline },
  };
}

const digest = (i: SnpLaunchInput) => toHex(computeSnpLaunchDigest(i));
const flipped = (b: Uint8Array) => {
  const out = b.length === 0 ? new Uint8Array(1) : b.slice();
  if (b.length > 0) out[0] = out[0]! ^ 1;
  return out;
};

/** Every single-input change a launch can have; the VMM change keeps a VMM whose RDX sees the signature. */
function changes(d: Drawn): [string, SnpLaunchInput][] {
  const otherVmm = VMMS[(VMMS.indexOf(d.vmm) + 1) % VMMS.length]!;
  const ovmf = OVMF.slice();
  ovmf[0x10] = ovmf[0x10]! ^ 1;
  const out: [string, SnpLaunchInput][] = [
    ['cmdline', launch({ ...d, cmdline: `${d.cmdline} ` })],
    ['kernel', launch({ ...d, kernel: flipped(d.kernel) })],
    ['initrd', launch({ ...d, initrd: flipped(d.initrd) })],
    ['vcpus', launch({ ...d, vcpus: d.vcpus + 1 })],
    ['guest features', launch({ ...d, guestFeatures: d.guestFeatures ^ 1n })],
    ['vmm', launch({ ...d, vmm: otherVmm })],
    ['an OVMF byte', launch(d, ovmf)],
    ['the OVMF hash', launch(d, OVMF, new Uint8Array(48).fill(7))],
  ];
  // EC2 and GCE put 0x600 in RDX: the signature is measured under QEMU only.
  if (d.vmm === 'qemu')
    out.push(['vCPU signature', launch({ ...d, vcpuSignature: (d.vcpuSignature ^ 1) >>> 0 })]);
  return out;
}

describe('every input changes the launch digest', () => {
  it('the same input gives the same digest', () => {
    fc.assert(
      fc.property(input, (d) => {
        const first = digest(launch(d));
        expect(digest(launch(d))).toBe(first);
      }),
      { numRuns: 10 },
    );
  });

  it('changing any single input changes it', () => {
    fc.assert(
      fc.property(input, (d) => {
        const before = digest(launch(d));
        for (const [what, changed] of changes(d)) expect(digest(changed), what).not.toBe(before);
      }),
      { numRuns: 15 },
    );
  });

  it('direct boot with an empty command line differs from no direct boot', () => {
    const d = { ovmf: OVMF, vcpus: 1, vcpuSignature: 0x800f12 };
    const boot = digest({ ...d, directBoot: { kernel: new Uint8Array(0) } });
    expect(boot).not.toBe(digest(d));
    expect(digest({ ...d, directBoot: { kernel: new Uint8Array(0), cmdline: '' } })).toBe(boot);
  });
});
