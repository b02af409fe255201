/**
 * The launch digests of ../shared/testdata/snp-measure (recomputed with virtee/sev-snp-measure):
 * every case equal, both from the OVMF tail hashed as the image and from the precomputed OVMF hash
 * (sev-snp-measure's --snp-ovmf-hash: the pages are not hashed, the tail is read for its table).
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../../src/bytes.js';
import {
  computeSnpLaunchDigest,
  ovmfLaunchDigest,
  type SnpLaunchInput,
  type Vmm,
  vcpuSignatureOf,
} from '../../../../src/evidence/snp/measure/index.js';
import { vectors } from '../../../support/vectors.js';

const v = vectors();
const DIR = 'snp-measure';

interface Case {
  name: string;
  vcpus: number;
  vcpu_type: string | null;
  vcpu_sig: string | null;
  ovmf: string;
  kernel: 'empty file' | null;
  initrd: 'empty file' | null;
  append: string | null;
  guest_features: string;
  vmm: 'QEMU' | 'ec2' | 'gce';
  launch_digest: string;
}

interface Expected {
  ovmf_snp_hash_AmdSev_suffix: string;
  cases: Case[];
}

function launchInputOf(c: Case, ovmf: Uint8Array): SnpLaunchInput {
  return {
    ovmf,
    vcpus: c.vcpus,
    ...(c.vcpu_type ? { vcpuSignature: vcpuSignatureOf(c.vcpu_type) } : {}),
    vmm: c.vmm.toLowerCase() as Vmm,
    guestFeatures: BigInt(c.guest_features),
    ...(c.kernel
      ? {
          directBoot: {
            kernel: new Uint8Array(0),
            ...(c.initrd ? { initrd: new Uint8Array(0) } : {}),
            ...(c.append !== null ? { cmdline: c.append } : {}),
          },
        }
      : {}),
  };
}

describe.skipIf(!v.present || !v.has(`${DIR}/expected.json`))(
  `sev-snp-measure launch digests${v.present ? '' : ` (skipped: ${v.skipReason})`}`,
  () => {
    const expected = () => v.json<Expected>(`${DIR}/expected.json`);

    it('has the cases the issue names (1 and 4 vCPUs, 0x21 and 0x1, QEMU/EC2/GCE, with and without direct boot)', () => {
      const cases = expected().cases;
      expect(cases.length).toBeGreaterThanOrEqual(7);
      expect(new Set(cases.map((c) => c.vmm))).toEqual(new Set(['QEMU', 'ec2', 'gce']));
    });

    it('the vCPU signature of each named type is the one the case lists', () => {
      for (const c of expected().cases) {
        if (c.vcpu_type) expect(vcpuSignatureOf(c.vcpu_type)).toBe(Number(c.vcpu_sig));
      }
    });

    it('the OVMF hash of the AmdSev tail equals sev-snp-measure --mode snp:ovmf-hash', () => {
      const digest = ovmfLaunchDigest(v.bytes(`${DIR}/ovmf_AmdSev_suffix.bin`));
      expect(toHex(digest)).toBe(expected().ovmf_snp_hash_AmdSev_suffix);
    });

    it('every case from the OVMF image', () => {
      for (const c of expected().cases) {
        const digest = computeSnpLaunchDigest(launchInputOf(c, v.bytes(`${DIR}/${c.ovmf}`)));
        expect(toHex(digest), c.name).toBe(c.launch_digest);
      }
    });

    it('every AmdSev case from the precomputed OVMF hash', () => {
      const e = expected();
      const ovmfHash = fromHex(e.ovmf_snp_hash_AmdSev_suffix);
      const cases = e.cases.filter((c) => c.ovmf === 'ovmf_AmdSev_suffix.bin');
      expect(cases.length).toBeGreaterThan(0);
      for (const c of cases) {
        const input = { ...launchInputOf(c, v.bytes(`${DIR}/${c.ovmf}`)), ovmfHash };
        expect(toHex(computeSnpLaunchDigest(input)), c.name).toBe(c.launch_digest);
      }
    });

    it('a kernel with the OvmfX64 build (no kernel-hashes section) is refused', () => {
      const c = expected().cases.find((x) => x.ovmf === 'ovmf_OvmfX64_suffix.bin')!;
      const input = launchInputOf(
        { ...c, kernel: 'empty file', initrd: 'empty file', append: '' },
        v.bytes(`${DIR}/${c.ovmf}`),
      );
      expect(() => computeSnpLaunchDigest(input)).toThrow(
        expect.objectContaining({
          code: 'unmeasurable_launch',
          message: expect.stringMatching(/kernel-hashes/),
        }),
      );
    });
  },
);
