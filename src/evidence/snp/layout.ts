/**
 * Byte layout of the SEV-SNP ATTESTATION_REPORT: AMD pub. 56860 ("SEV Secure Nested Paging Firmware
 * ABI Specification"), Table 23 in rev 1.57 (Table 22 in older revisions). Offsets are written in the
 * spec's hex so that a reviewer can hold this file next to the table. All integers little-endian.
 *
 * Which bytes are reserved depends on VERSION:
 *   v2      CPUID_FAM_ID/MOD_ID/STEP (0x188..0x18A) and the MIT vectors (0x1F8..0x207) are reserved;
 *   v3, v4  CPUID bytes defined, MIT vectors still reserved;
 *   v5      MIT vectors defined (rev 1.58).
 * Version 4 is not in any public revision; real firmware emits it (Milan 1.55.31 on GCP, see
 * virtee/sev#307 and google/go-sev-guest#158) with the v3 layout, so it is accepted as v3.
 */

/** ATTESTATION_REPORT is always 0x4A0 = 1184 bytes. */
export const REPORT_SIZE = 0x4a0;

/** The versions this parser knows (see the header comment for v4). */
export const SUPPORTED_REPORT_VERSIONS: readonly number[] = [2, 3, 4, 5];

/** Field offsets (Table 23). Sizes in bytes follow each name in the comment. */
export const OFFSET = {
  VERSION: 0x000, // 4
  GUEST_SVN: 0x004, // 4
  POLICY: 0x008, // 8
  FAMILY_ID: 0x010, // 16
  IMAGE_ID: 0x020, // 16
  VMPL: 0x030, // 4
  SIGNATURE_ALGO: 0x034, // 4
  CURRENT_TCB: 0x038, // 8
  PLATFORM_INFO: 0x040, // 8
  /** AUTHOR_KEY_EN (bit 0), MASK_CHIP_KEY (bit 1), SIGNING_KEY (bits 4:2), bits 31:5 reserved. */
  SIGNER_INFO: 0x048, // 4
  REPORT_DATA: 0x050, // 64
  MEASUREMENT: 0x090, // 48
  HOST_DATA: 0x0c0, // 32
  ID_KEY_DIGEST: 0x0e0, // 48
  AUTHOR_KEY_DIGEST: 0x110, // 48
  REPORT_ID: 0x140, // 32
  REPORT_ID_MA: 0x160, // 32
  REPORTED_TCB: 0x180, // 8
  CPUID_FAM_ID: 0x188, // 1 (v3+)
  CPUID_MOD_ID: 0x189, // 1 (v3+)
  CPUID_STEP: 0x18a, // 1 (v3+)
  CHIP_ID: 0x1a0, // 64
  COMMITTED_TCB: 0x1e0, // 8
  CURRENT_BUILD: 0x1e8, // 1
  CURRENT_MINOR: 0x1e9, // 1
  CURRENT_MAJOR: 0x1ea, // 1
  COMMITTED_BUILD: 0x1ec, // 1
  COMMITTED_MINOR: 0x1ed, // 1
  COMMITTED_MAJOR: 0x1ee, // 1
  LAUNCH_TCB: 0x1f0, // 8
  LAUNCH_MIT_VECTOR: 0x1f8, // 8 (v5)
  CURRENT_MIT_VECTOR: 0x200, // 8 (v5)
  SIGNATURE: 0x2a0, // 512
  /** ECDSA P-384 signature format (ABI spec "ECDSA Signature" table): R then S, 72 bytes each, LE. */
  SIGNATURE_R: 0x2a0, // 72
  SIGNATURE_S: 0x2e8, // 72
} as const;

export const SIZE = {
  FAMILY_ID: 16,
  IMAGE_ID: 16,
  REPORT_DATA: 64,
  MEASUREMENT: 48,
  HOST_DATA: 32,
  ID_KEY_DIGEST: 48,
  AUTHOR_KEY_DIGEST: 48,
  REPORT_ID: 32,
  REPORT_ID_MA: 32,
  CHIP_ID: 64,
  /** Each of R and S in the ECDSA P-384 signature block. */
  SIGNATURE_COMPONENT: 72,
} as const;

/** The report signature covers bytes [0x000, 0x2A0) (Table 23, SIGNATURE). */
export const SIGNED_REGION_END = 0x2a0;

/** SIGNATURE_ALGO encodings (ABI spec "Signature Algorithm Encodings"): only 1 is defined. */
export const SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1;

/** SIGNING_KEY values in the signer-info word (Table 23): 0 VCEK, 1 VLEK, 2..6 reserved, 7 none. */
export const SIGNING_KEY_VCEK = 0;
export const SIGNING_KEY_VLEK = 1;
export const SIGNING_KEY_NONE = 7;

/** A half-open byte range [start, end) that must be zero. */
export interface ReservedRange {
  start: number;
  end: number;
  /** What the range is, for messages. */
  name: string;
}

const ALWAYS_RESERVED: readonly ReservedRange[] = [
  { start: 0x04c, end: 0x050, name: 'after the signer info' },
  { start: 0x18b, end: 0x1a0, name: 'after CPUID_STEP' },
  { start: 0x1eb, end: 0x1ec, name: 'after CURRENT_VERSION' },
  { start: 0x1ef, end: 0x1f0, name: 'after COMMITTED_VERSION' },
  { start: 0x208, end: 0x2a0, name: 'before SIGNATURE' },
  // ECDSA P-384 uses 0x90 bytes of the 0x200-byte SIGNATURE field; the rest is reserved.
  { start: 0x330, end: 0x4a0, name: 'signature tail after R and S' },
];

const CPUID_RESERVED: ReservedRange = { start: 0x188, end: 0x18b, name: 'CPUID, defined from v3' };
const MIT_RESERVED: ReservedRange = { start: 0x1f8, end: 0x208, name: 'MIT vectors, defined from v5' };

function rangesOf(version: number): readonly ReservedRange[] {
  const ranges = [...ALWAYS_RESERVED];
  if (version < 3) ranges.push(CPUID_RESERVED);
  if (version < 5) ranges.push(MIT_RESERVED);
  return Object.freeze(ranges.sort((a, b) => a.start - b.start).map((r) => Object.freeze(r)));
}

/** The three shapes: v2 (no CPUID, no MIT vectors), v3–v4 (no MIT vectors), v5+; built once. */
const RANGES_V2 = rangesOf(2);
const RANGES_V3 = rangesOf(3);
const RANGES_V5 = rangesOf(5);

/** Every must-be-zero range of a report of `version` (a supported version), in offset order. */
export function reservedRanges(version: number): readonly ReservedRange[] {
  return version < 3 ? RANGES_V2 : version < 5 ? RANGES_V3 : RANGES_V5;
}

/** "0x1A0"-style rendering used in every message of this module. */
export function hex(n: number): string {
  return `0x${n.toString(16).toUpperCase()}`;
}
