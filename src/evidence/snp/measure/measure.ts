/**
 * The SEV-SNP launch digest (the report's MEASUREMENT, ABI spec Table 23 offset 0x090) of a
 * QEMU-style launch, computed offline from the image parts, in the order the VMM issues
 * SNP_LAUNCH_UPDATE (QEMU target/i386/sev.c; EC2's and GCE's VMMs differ where noted):
 *
 *   1. the OVMF image's pages, NORMAL, the image ending at 4 GiB (or a precomputed digest of them);
 *   2. OVMF's SNP metadata sections in order: SNP_SEC_MEM as ZERO (GCE: UNMEASURED), SECRETS,
 *      CPUID (EC2: after every other section), SVSM_CAA as ZERO, and SNP_KERNEL_HASHES as the SEV
 *      hashes page (NORMAL) with direct boot or ZERO without;
 *   3. one VMSA per vCPU: the BSP's, then the APs' (same page each).
 *
 * Everything refused is refused with a reason: an OVMF without SNP metadata, a kernel for an OVMF
 * that cannot check one, more vCPUs than OVMF can start.
 */
import { SealgateError } from '../../../errors.js';
import { LAUNCH_DIGEST_SIZE, LaunchDigest, PAGE_SIZE } from './launch-digest.js';
import {
  OVMF_END_GPA,
  OVMF_TABLE_GUID,
  type OvmfImage,
  parseOvmf,
  SNP_SECTION,
  type SnpMetadataSection,
  tableU32,
} from './ovmf.js';
import { type DirectBoot, sevHashesPage } from './sev-hashes.js';
import { BSP_RESET_EIP, buildVmsa, VMMS, type Vmm } from './vmsa.js';

/** SNPActive (bit 0) + DebugSwap (bit 5): what Linux ≥ 6.6's KVM sets by default. */
export const DEFAULT_GUEST_FEATURES = 0x21n;
/** More vCPUs than any SNP host offers is a mistake, not a launch. */
export const MAX_VCPUS = 4096;

export interface SnpLaunchInput {
  /** The OVMF image as the VMM loads it; with `ovmfHash`, any tail holding its GUIDed table and SNP metadata. */
  ovmf: Uint8Array;
  /** The launch digest after OVMF's pages (`ovmfLaunchDigest`); when given, `ovmf`'s pages are not hashed. */
  ovmfHash?: Uint8Array;
  vcpus: number;
  /** CPUID Fn0000_0001_EAX of the vCPU model (`vcpuSignatureOf`). Required for QEMU, unused by EC2 and GCE. */
  vcpuSignature?: number;
  /** Default `qemu`. */
  vmm?: Vmm;
  /** SEV_FEATURES of every VMSA. Default `DEFAULT_GUEST_FEATURES`. */
  guestFeatures?: bigint;
  /** QEMU's -kernel/-initrd/-append (measured direct boot). */
  directBoot?: DirectBoot;
}

function invalid(message: string, detail?: Record<string, unknown>): SealgateError {
  return new SealgateError('invalid_argument', `measure: ${message}`, detail);
}

function unmeasurable(message: string, detail?: Record<string, unknown>): SealgateError {
  return new SealgateError('unmeasurable_launch', `measure: ${message}`, detail);
}

/** The launch digest after the NORMAL pages of a whole OVMF image (sev-snp-measure's "OVMF hash"). */
export function ovmfLaunchDigest(ovmf: Uint8Array): Uint8Array {
  if (!(ovmf instanceof Uint8Array)) throw invalid('OVMF must be a Uint8Array');
  if (ovmf.length === 0 || ovmf.length % PAGE_SIZE !== 0) {
    throw new SealgateError('malformed_image', `OVMF: ${ovmf.length} bytes is not whole 4 KiB pages`);
  }
  const ld = new LaunchDigest();
  ld.normalPages(OVMF_END_GPA - BigInt(ovmf.length), ovmf);
  return ld.digest();
}

interface Checked {
  image: OvmfImage;
  metadata: SnpMetadataSection[];
  vmm: Vmm;
  vcpuSignature: number;
  guestFeatures: bigint;
}

function checkInput(input: SnpLaunchInput): Checked {
  const { vcpus, vmm = 'qemu', guestFeatures = DEFAULT_GUEST_FEATURES } = input;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > MAX_VCPUS) {
    throw invalid(`vcpus must be an integer in [1, ${MAX_VCPUS}], got ${vcpus}`);
  }
  if (!VMMS.includes(vmm)) throw invalid(`unknown VMM ${JSON.stringify(vmm)} (known: ${VMMS.join(', ')})`);
  if (typeof guestFeatures !== 'bigint' || guestFeatures < 0n || guestFeatures >= 1n << 64n) {
    throw invalid('guest features must be a u64 bigint');
  }
  const sig = input.vcpuSignature;
  if (sig !== undefined && (!Number.isInteger(sig) || sig < 0 || sig > 0xffffffff)) {
    throw invalid('vCPU signature must be a u32');
  }
  if (sig === undefined && vmm === 'qemu')
    throw invalid('QEMU puts the vCPU signature in RDX: give a vCPU type or signature');
  if (input.ovmfHash !== undefined && input.ovmfHash.length !== LAUNCH_DIGEST_SIZE) {
    throw invalid(`the OVMF hash must be ${LAUNCH_DIGEST_SIZE} bytes, got ${input.ovmfHash.length}`);
  }
  const image = parseOvmf(input.ovmf);
  if (image.snpMetadata === null)
    throw unmeasurable('the OVMF image has no SNP metadata (not an SNP-capable build)');
  return { image, metadata: image.snpMetadata, vmm, vcpuSignature: sig ?? 0, guestFeatures };
}

/** The page offset of the SEV hashes table; a kernel needs both OVMF's hashes section and its table entry. */
function hashesTableOffset(image: OvmfImage, metadata: SnpMetadataSection[]): number {
  const section = metadata.find((s) => s.type === SNP_SECTION.SNP_KERNEL_HASHES);
  const gpa = tableU32(image, OVMF_TABLE_GUID.SEV_HASH_TABLE_RV);
  if (section === undefined || gpa === null || gpa === 0) {
    throw unmeasurable(
      'a kernel was given, but this OVMF build has no kernel-hashes section: it would not check the kernel (use the AmdSev build)',
    );
  }
  const page = gpa - (gpa % PAGE_SIZE);
  if (page < section.gpa || page >= section.gpa + section.size) {
    throw new SealgateError(
      'malformed_image',
      'OVMF: the SEV hashes table lies outside the kernel-hashes section',
    );
  }
  return gpa % PAGE_SIZE;
}

function measureSection(ld: LaunchDigest, s: SnpMetadataSection, vmm: Vmm, hashesPage: Uint8Array | null) {
  const gpa = BigInt(s.gpa);
  switch (s.type) {
    case SNP_SECTION.SNP_SEC_MEM:
      if (vmm === 'gce') ld.unmeasuredPages(gpa, s.size);
      else ld.zeroPages(gpa, s.size);
      return;
    case SNP_SECTION.SNP_SECRETS:
      ld.secretsPage(gpa);
      return;
    case SNP_SECTION.CPUID:
      // EC2's VMM adds the CPUID page after every other metadata page.
      if (vmm !== 'ec2') ld.cpuidPage(gpa);
      return;
    case SNP_SECTION.SVSM_CAA:
      ld.zeroPages(gpa, s.size);
      return;
    case SNP_SECTION.SNP_KERNEL_HASHES:
      if (hashesPage) ld.normalPages(gpa, hashesPage);
      else ld.zeroPages(gpa, s.size);
      return;
  }
}

function measureMetadata(ld: LaunchDigest, c: Checked, hashesPage: Uint8Array | null): void {
  for (const s of c.metadata) measureSection(ld, s, c.vmm, hashesPage);
  if (c.vmm === 'ec2') {
    for (const s of c.metadata) if (s.type === SNP_SECTION.CPUID) ld.cpuidPage(BigInt(s.gpa));
  }
}

/** The APs start at OVMF's SEV-ES reset block; without it OVMF cannot be launched under SEV-ES/SNP. */
function apResetEip(image: OvmfImage, vcpus: number): number {
  const eip = tableU32(image, OVMF_TABLE_GUID.SEV_ES_RESET_BLOCK);
  if (eip === null) throw unmeasurable('the OVMF image has no SEV-ES reset block');
  if (eip === 0 && vcpus > 1) throw unmeasurable('the OVMF SEV-ES reset block has no AP entry point');
  return eip;
}

/** The 48-byte launch digest the firmware will report as MEASUREMENT for this launch. */
export function computeSnpLaunchDigest(input: SnpLaunchInput): Uint8Array {
  const c = checkInput(input);
  const apEip = apResetEip(c.image, input.vcpus);
  const hashesPage = input.directBoot
    ? sevHashesPage(input.directBoot, hashesTableOffset(c.image, c.metadata))
    : null;
  const ld = input.ovmfHash
    ? new LaunchDigest(input.ovmfHash)
    : new LaunchDigest(ovmfLaunchDigest(input.ovmf));
  measureMetadata(ld, c, hashesPage);
  const vmsa = (eip: number) =>
    buildVmsa({ eip, sevFeatures: c.guestFeatures, vcpuSignature: c.vcpuSignature, vmm: c.vmm });
  const bsp = vmsa(BSP_RESET_EIP);
  const ap = input.vcpus > 1 ? vmsa(apEip) : null;
  for (let i = 0; i < input.vcpus; i++) ld.vmsaPage(i === 0 ? bsp : ap!);
  return ld.digest();
}
