/**
 * What cannot be measured is refused with a closed code and a reason, never measured as something
 * else: OVMF without SNP metadata or table, a kernel for a build without the kernel-hashes section,
 * an unknown vCPU type, and every length of the GUIDed table and the metadata out of bounds.
 * Synthetic OVMF tails (no vectors needed).
 */
import { describe, expect, it } from 'vitest';
import { type ErrorCode, SealgateError } from '../../../../src/errors.js';
import { computeSnpLaunchDigest, type SnpLaunchInput } from '../../../../src/evidence/snp/measure/measure.js';
import { parseOvmf, SNP_SECTION } from '../../../../src/evidence/snp/measure/ovmf.js';
import { vcpuSignatureOf } from '../../../../src/evidence/snp/measure/vcpu-types.js';
import { AMDSEV_LIKE_SECTIONS, FOOTER_AT, METADATA_AT, patched, syntheticOvmf } from './synthetic-ovmf.js';

const EPYC_V4 = 0x800f12;
const base = (ovmf: Uint8Array, extra: Partial<SnpLaunchInput> = {}): SnpLaunchInput => ({
  ovmf,
  vcpus: 1,
  vcpuSignature: EPYC_V4,
  ...extra,
});

function refused(f: () => unknown, code: ErrorCode, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SealgateError);
    expect((e as SealgateError).code).toBe(code);
    expect((e as SealgateError).message).toMatch(message);
    return;
  }
  expect.fail(`expected ${code}`);
}

const NO_HASHES = AMDSEV_LIKE_SECTIONS.filter((s) => s.type !== SNP_SECTION.SNP_KERNEL_HASHES);
const KERNEL = { kernel: new Uint8Array(16), cmdline: 'console=ttyS0' };

describe('measure refuses what it cannot measure', () => {
  it('measures the synthetic AmdSev-like image (the baseline the refusals break)', () => {
    expect(computeSnpLaunchDigest(base(syntheticOvmf(), { directBoot: KERNEL }))).toHaveLength(48);
  });

  it('an OVMF footer without SNP metadata', () => {
    refused(
      () => computeSnpLaunchDigest(base(syntheticOvmf({ sections: null }))),
      'unmeasurable_launch',
      /no SNP metadata/,
    );
  });

  it('an image without the GUIDed table', () => {
    refused(
      () => computeSnpLaunchDigest(base(new Uint8Array(0x1000))),
      'unmeasurable_launch',
      /no GUIDed table/,
    );
  });

  it('a kernel with a build that has no kernel-hashes section, or no hashes table entry', () => {
    for (const ovmf of [syntheticOvmf({ sections: NO_HASHES }), syntheticOvmf({ hashesTableGpa: null })]) {
      refused(
        () => computeSnpLaunchDigest(base(ovmf, { directBoot: KERNEL })),
        'unmeasurable_launch',
        /kernel-hashes/,
      );
      // Without a kernel the same build measures: its hashes page (if any) is a zero page.
      expect(computeSnpLaunchDigest(base(ovmf))).toHaveLength(48);
    }
  });

  it('the hashes table outside the kernel-hashes section, or not fitting its page', () => {
    refused(
      () => computeSnpLaunchDigest(base(syntheticOvmf({ hashesTableGpa: 0x900000 }), { directBoot: KERNEL })),
      'malformed_image',
      /outside the kernel-hashes section/,
    );
    refused(
      () => computeSnpLaunchDigest(base(syntheticOvmf({ hashesTableGpa: 0x810f80 }), { directBoot: KERNEL })),
      'malformed_image',
      /does not fit its page/,
    );
  });

  it('no SEV-ES reset block; a zero AP entry point with more than one vCPU', () => {
    refused(
      () => computeSnpLaunchDigest(base(syntheticOvmf({ resetEip: null }))),
      'unmeasurable_launch',
      /reset block/,
    );
    const zero = syntheticOvmf({ resetEip: 0 });
    expect(computeSnpLaunchDigest(base(zero))).toHaveLength(48);
    refused(() => computeSnpLaunchDigest(base(zero, { vcpus: 2 })), 'unmeasurable_launch', /AP entry point/);
  });

  it('an unknown vCPU type, and QEMU without a signature', () => {
    refused(() => vcpuSignatureOf('EPYC-v9'), 'invalid_argument', /unknown vCPU type "EPYC-v9"/);
    refused(() => vcpuSignatureOf('constructor'), 'invalid_argument', /unknown vCPU type/);
    const { vcpuSignature: _, ...noSig } = base(syntheticOvmf());
    refused(() => computeSnpLaunchDigest(noSig), 'invalid_argument', /vCPU signature/);
    expect(computeSnpLaunchDigest({ ...noSig, vmm: 'gce' })).toHaveLength(48);
  });

  it('arguments outside their domain', () => {
    const ovmf = syntheticOvmf();
    for (const vcpus of [0, -1, 1.5, 4097, Number.NaN]) {
      refused(() => computeSnpLaunchDigest(base(ovmf, { vcpus })), 'invalid_argument', /vcpus/);
    }
    refused(
      () => computeSnpLaunchDigest(base(ovmf, { guestFeatures: 1n << 64n })),
      'invalid_argument',
      /u64/,
    );
    refused(() => computeSnpLaunchDigest(base(ovmf, { guestFeatures: -1n })), 'invalid_argument', /u64/);
    refused(() => computeSnpLaunchDigest(base(ovmf, { vcpuSignature: 2 ** 32 })), 'invalid_argument', /u32/);
    refused(
      () => computeSnpLaunchDigest(base(ovmf, { vmm: 'xen' as 'qemu' })),
      'invalid_argument',
      /unknown VMM/,
    );
    refused(
      () => computeSnpLaunchDigest(base(ovmf, { ovmfHash: new Uint8Array(32) })),
      'invalid_argument',
      /48 bytes/,
    );
    refused(
      () =>
        computeSnpLaunchDigest(base(ovmf, { directBoot: { kernel: new Uint8Array(0), cmdline: 'a\0b' } })),
      'invalid_argument',
      /NUL/,
    );
  });

  it('an image that is not whole pages cannot be hashed (but its tail may go with an OVMF hash)', () => {
    const tail = syntheticOvmf().subarray(0x80);
    refused(() => computeSnpLaunchDigest(base(tail)), 'malformed_image', /not whole 4 KiB pages/);
    expect(computeSnpLaunchDigest(base(tail, { ovmfHash: new Uint8Array(48) }))).toHaveLength(48);
  });
});

describe('truncated or garbage GUIDed tables and metadata', () => {
  const ovmf = syntheticOvmf();
  const parse = (bytes: Uint8Array) => () => parseOvmf(bytes);

  it('an image too short for the footer', () => {
    refused(parse(new Uint8Array(0x31)), 'malformed_image', /too short/);
  });

  it('a footer length beyond the image or below its own header', () => {
    refused(parse(patched(ovmf, FOOTER_AT, 0xffff, 2)), 'malformed_image', /does not fit the image/);
    refused(parse(patched(ovmf, FOOTER_AT, 0x11, 2)), 'malformed_image', /does not fit the image/);
  });

  it('an entry length beyond the table, below its header, or leaving stray bytes', () => {
    const lastEntry = FOOTER_AT - 0x12;
    refused(parse(patched(ovmf, lastEntry, 0x400, 2)), 'malformed_image', /outside the table/);
    refused(parse(patched(ovmf, lastEntry, 0x05, 2)), 'malformed_image', /outside the table/);
    const footerLength = new DataView(ovmf.buffer).getUint16(FOOTER_AT, true);
    refused(parse(patched(ovmf, FOOTER_AT, footerLength + 4, 2)), 'malformed_image', /stray bytes|outside/);
  });

  it('metadata offset, signature, version, size and section fields', () => {
    const entryData = FOOTER_AT - 3 * 0x12 - 4 - 8 - 4; // reset block (4), hashes (8), metadata (4)
    expect(new DataView(ovmf.buffer).getUint32(entryData, true)).toBe(0x1000 - METADATA_AT);
    refused(parse(patched(ovmf, entryData, 0x2000, 4)), 'malformed_image', /offset .* outside the image/);
    refused(parse(patched(ovmf, entryData, 0x8, 4)), 'malformed_image', /offset .* outside the image/);
    refused(parse(patched(ovmf, METADATA_AT, 0x56455341 + 1, 4)), 'malformed_image', /signature/);
    refused(parse(patched(ovmf, METADATA_AT + 8, 2, 4)), 'malformed_image', /version 2/);
    refused(parse(patched(ovmf, METADATA_AT + 4, 0x20, 4)), 'malformed_image', /does not hold/);
    refused(parse(patched(ovmf, METADATA_AT + 12, 0xffffffff, 4)), 'malformed_image', /does not hold/);
    const firstSection = METADATA_AT + 0x10;
    refused(parse(patched(ovmf, firstSection, 0x800800, 4)), 'malformed_image', /4 KiB pages/);
    refused(parse(patched(ovmf, firstSection + 4, 0, 4)), 'malformed_image', /4 KiB pages/);
    refused(parse(patched(ovmf, firstSection + 4, 0xfffff000, 4)), 'malformed_image', /above 4 GiB/);
    refused(parse(patched(ovmf, firstSection + 8, 0x7, 4)), 'unmeasurable_launch', /type 0x7/);
    const secrets = firstSection + 2 * 0x0c;
    refused(parse(patched(ovmf, secrets + 4, 0x2000, 4)), 'malformed_image', /must be one page/);
  });

  it('fuzz: any single corrupted byte of the table or metadata header parses or is refused with a closed code', () => {
    const tableStart = FOOTER_AT - 3 * 0x12 - 16;
    const positions = [...Array(0x10).keys()].map((i) => METADATA_AT + i);
    for (let at = tableStart; at < ovmf.length; at++) positions.push(at);
    for (const at of positions) {
      for (const value of [0x00, 0xff, ovmf[at]! ^ 0x01]) {
        const bytes = ovmf.slice();
        bytes[at] = value;
        try {
          computeSnpLaunchDigest(base(bytes, { directBoot: KERNEL }));
        } catch (e) {
          expect(e).toBeInstanceOf(SealgateError);
          expect(['malformed_image', 'unmeasurable_launch']).toContain((e as SealgateError).code);
        }
      }
    }
  });
});
