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
} from '../../../../src/evidence/snp/measure/measure.js';
import { vcpuSignatureOf } from '../../../../src/evidence/snp/measure/vcpu-types.js';
import type { Vmm } from '../../../../src/evidence/snp/measure/vmsa.js';
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

/**
 * The SNP values sev-snp-measure's own tests assert (tests/test_guest.py at 8f2b337) that
 * expected.json does not repeat, on the same two OVMF tails: the 0x1 variants, EC2 with 0x1, GCE
 * with 4 vCPUs (the AP path), and the precomputed OVMF hash with an empty command line.
 */
const TEST_GUEST: [name: string, overrides: Partial<Case>, ovmfHash: boolean, digest: string][] = [
  [
    'test_snp_ovmf_hash_gen_default',
    { append: '' },
    true,
    '329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198',
  ],
  [
    'test_snp_ovmf_hash_gen_feature_snp_only',
    { append: '', guest_features: '0x1' },
    true,
    'ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5',
  ],
  [
    'test_snp_ec2_feature_snp_only',
    { append: '', guest_features: '0x1', vmm: 'ec2' },
    false,
    '0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056',
  ],
  [
    'test_snp_gce_with_multiple_vcpus_default',
    { vcpus: 4, vcpu_type: null, append: '', guest_features: '0x1', vmm: 'gce' },
    false,
    '5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d',
  ],
  [
    'test_snp_without_kernel_feature_snp_only',
    { kernel: null, initrd: null, append: null, guest_features: '0x1' },
    false,
    '19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d',
  ],
  [
    'test_snp_with_multiple_vcpus_feature_snp_only',
    { vcpus: 4, append: '', guest_features: '0x1' },
    false,
    '5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5',
  ],
  [
    'test_snp_with_ovmfx64_without_kernel_feature_snp_only',
    { ovmf: 'ovmf_OvmfX64_suffix.bin', kernel: null, initrd: null, append: null, guest_features: '0x1' },
    false,
    'da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005',
  ],
];

describe.skipIf(!v.present || !v.has(`${DIR}/expected.json`))(
  `sev-snp-measure's test_guest.py values${v.present ? '' : ` (skipped: ${v.skipReason})`}`,
  () => {
    const baseCase: Case = {
      name: '',
      vcpus: 1,
      vcpu_type: 'EPYC-v4',
      vcpu_sig: '0x800f12',
      ovmf: 'ovmf_AmdSev_suffix.bin',
      kernel: 'empty file',
      initrd: 'empty file',
      append: 'console=ttyS0 loglevel=7',
      guest_features: '0x21',
      vmm: 'QEMU',
      launch_digest: '',
    };
    it.each(TEST_GUEST)('%s', (_name, overrides, withHash, digest) => {
      const c = { ...baseCase, ...overrides };
      const hash = v.json<Expected>(`${DIR}/expected.json`).ovmf_snp_hash_AmdSev_suffix;
      const input = launchInputOf(c, v.bytes(`${DIR}/${c.ovmf}`));
      expect(toHex(computeSnpLaunchDigest(withHash ? { ...input, ovmfHash: fromHex(hash) } : input))).toBe(
        digest,
      );
    });
  },
);
