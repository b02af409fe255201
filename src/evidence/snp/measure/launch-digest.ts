/**
 * The SEV-SNP launch digest as the firmware extends it on every SNP_LAUNCH_UPDATE (SEV-SNP Firmware
 * ABI spec, AMD pub. 56860 rev. 1.51, §8.17 SNP_LAUNCH_UPDATE and §8.17.2 "Launch Digest"):
 *
 *   DIGEST_NEW = SHA-384(PAGE_INFO),  PAGE_INFO (Table 67) = DIGEST_CUR ‖ CONTENTS ‖ LENGTH ‖
 *                PAGE_TYPE ‖ IMI_PAGE ‖ VMPL3/2/1_PERMS ‖ reserved ‖ GPA
 *
 * CONTENTS is the SHA-384 of the page for NORMAL and VMSA pages and zero for ZERO, UNMEASURED,
 * SECRETS and CPUID pages (§8.17.2.1–§8.17.2.6). The digest after the last update is the report's
 * MEASUREMENT. Pages are 4 KiB; every GPA handed here is page-aligned.
 */
import { sha384 } from '@noble/hashes/sha2.js';
import { SealgateError } from '../../../errors.js';

export const PAGE_SIZE = 0x1000;
export const LAUNCH_DIGEST_SIZE = 48;

/** PAGE_TYPE of SNP_LAUNCH_UPDATE (ABI spec Table 58). */
export const PAGE_TYPE = {
  NORMAL: 0x01,
  VMSA: 0x02,
  ZERO: 0x03,
  UNMEASURED: 0x04,
  SECRETS: 0x05,
  CPUID: 0x06,
} as const;
type PageType = (typeof PAGE_TYPE)[keyof typeof PAGE_TYPE];

/** PAGE_INFO field offsets (ABI spec Table 67). */
const PAGE_INFO = {
  DIGEST_CUR: 0x00,
  CONTENTS: 0x30,
  LENGTH: 0x60,
  PAGE_TYPE: 0x62,
  IMI_PAGE: 0x63,
  VMPL3_PERMS: 0x64,
  VMPL2_PERMS: 0x65,
  VMPL1_PERMS: 0x66,
  GPA: 0x68,
  SIZE: 0x70,
} as const;

/**
 * The GPA under which KVM launches every VMSA page: (u64)-1 page-aligned with bits 63:52 clear
 * (KVM's convention for SNP_LAUNCH_UPDATE of a VMSA, which has no guest address of its own).
 */
export const VMSA_GPA = 0xfffffffff000n;

const ZERO_CONTENTS = new Uint8Array(LAUNCH_DIGEST_SIZE);

function pageInfo(digest: Uint8Array, type: PageType, gpa: bigint, contents: Uint8Array): Uint8Array {
  const info = new Uint8Array(PAGE_INFO.SIZE);
  const view = new DataView(info.buffer);
  info.set(digest, PAGE_INFO.DIGEST_CUR);
  info.set(contents, PAGE_INFO.CONTENTS);
  view.setUint16(PAGE_INFO.LENGTH, PAGE_INFO.SIZE, true);
  view.setUint8(PAGE_INFO.PAGE_TYPE, type);
  // IMI_PAGE and the VMPL1-3 permissions stay 0: a launch from the VMM, no migration image.
  view.setBigUint64(PAGE_INFO.GPA, gpa, true);
  return info;
}

function checkRange(gpa: bigint, length: number): void {
  if (gpa % BigInt(PAGE_SIZE) !== 0n || length % PAGE_SIZE !== 0 || gpa < 0n) {
    throw new SealgateError(
      'internal',
      `launch digest: ${gpa.toString(16)} + ${length} is not whole 4 KiB pages`,
    );
  }
}

/** The launch digest under construction (the guest context's LD field). */
export class LaunchDigest {
  #digest: Uint8Array;

  /** `seed`: the digest so far, e.g. after the OVMF pages (`--ovmf-hash`); default 48 zero bytes. */
  constructor(seed: Uint8Array = new Uint8Array(LAUNCH_DIGEST_SIZE)) {
    if (seed.length !== LAUNCH_DIGEST_SIZE)
      throw new SealgateError('internal', 'launch digest: seed must be 48 bytes');
    this.#digest = seed.slice();
  }

  digest(): Uint8Array {
    return this.#digest.slice();
  }

  #update(type: PageType, gpa: bigint, contents: Uint8Array): void {
    this.#digest = sha384(pageInfo(this.#digest, type, gpa, contents));
  }

  #updateEach(type: PageType, gpa: bigint, length: number, contentsOf: (offset: number) => Uint8Array) {
    checkRange(gpa, length);
    for (let offset = 0; offset < length; offset += PAGE_SIZE) {
      this.#update(type, gpa + BigInt(offset), contentsOf(offset));
    }
  }

  /** PAGE_TYPE_NORMAL for each page of `data`, loaded at `gpa` onwards. */
  normalPages(gpa: bigint, data: Uint8Array): void {
    this.#updateEach(PAGE_TYPE.NORMAL, gpa, data.length, (o) => sha384(data.subarray(o, o + PAGE_SIZE)));
  }

  /** PAGE_TYPE_VMSA: one vCPU's initial save area. */
  vmsaPage(page: Uint8Array): void {
    if (page.length !== PAGE_SIZE)
      throw new SealgateError('internal', 'launch digest: a VMSA is one 4 KiB page');
    this.#update(PAGE_TYPE.VMSA, VMSA_GPA, sha384(page));
  }

  zeroPages(gpa: bigint, length: number): void {
    this.#updateEach(PAGE_TYPE.ZERO, gpa, length, () => ZERO_CONTENTS);
  }

  unmeasuredPages(gpa: bigint, length: number): void {
    this.#updateEach(PAGE_TYPE.UNMEASURED, gpa, length, () => ZERO_CONTENTS);
  }

  secretsPage(gpa: bigint): void {
    this.#updateEach(PAGE_TYPE.SECRETS, gpa, PAGE_SIZE, () => ZERO_CONTENTS);
  }

  cpuidPage(gpa: bigint): void {
    this.#updateEach(PAGE_TYPE.CPUID, gpa, PAGE_SIZE, () => ZERO_CONTENTS);
  }
}
