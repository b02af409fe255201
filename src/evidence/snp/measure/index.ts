/**
 * `sealgate measure`'s domain: the SEV-SNP launch digest computed from OVMF, the direct-boot
 * kernel/initrd/command line and the vCPUs, offline. Runtime-neutral (Node, workerd, browsers).
 */
export { LAUNCH_DIGEST_SIZE, LaunchDigest, PAGE_TYPE, VMSA_GPA } from './launch-digest.js';
export {
  computeSnpLaunchDigest,
  DEFAULT_GUEST_FEATURES,
  MAX_VCPUS,
  ovmfLaunchDigest,
  type SnpLaunchInput,
} from './measure.js';
export {
  OVMF_TABLE_GUID,
  type OvmfImage,
  parseOvmf,
  SNP_SECTION,
  type SnpMetadataSection,
} from './ovmf.js';
export { type DirectBoot, SEV_HASHES_GUID, sevHashesTable } from './sev-hashes.js';
export { cpuSignature, VCPU_TYPES, vcpuSignatureOf } from './vcpu-types.js';
export { buildVmsa, VMMS, type Vmm } from './vmsa.js';
