/**
 * Synthetic OVMF tails for tests that need no real image: a GUIDed table ending 0x20 bytes before
 * the end, and (unless told otherwise) SNP metadata at `METADATA_AT`. Laid out as edk2 lays them
 * out, so the same parser reads both; the offsets are exported so that tests can break one field.
 */

import { guidBytes } from '../../../../src/evidence/snp/measure/guid.js';
import {
  OVMF_TABLE_GUID,
  SNP_SECTION,
  type SnpMetadataSection,
} from '../../../../src/evidence/snp/measure/ovmf.js';

export const IMAGE_SIZE = 0x1000;
/** Where the SNP metadata header starts in the image. */
export const METADATA_AT = 0x100;
/** The footer entry { u16 length, GUID } starts here. */
export const FOOTER_AT = IMAGE_SIZE - 0x20 - 0x12;

/** The AmdSev build's sections (as in sev-snp-measure's fixture), kernel hashes at 0x80F000. */
export const AMDSEV_LIKE_SECTIONS: SnpMetadataSection[] = [
  { gpa: 0x800000, size: 0x9000, type: SNP_SECTION.SNP_SEC_MEM },
  { gpa: 0x80b000, size: 0x3000, type: SNP_SECTION.SNP_SEC_MEM },
  { gpa: 0x80e000, size: 0x1000, type: SNP_SECTION.SNP_SECRETS },
  { gpa: 0x80f000, size: 0x1000, type: SNP_SECTION.CPUID },
  { gpa: 0x810000, size: 0x1000, type: SNP_SECTION.SNP_KERNEL_HASHES },
  { gpa: 0x811000, size: 0xf000, type: SNP_SECTION.SNP_SEC_MEM },
];

export interface SyntheticOvmf {
  /** null: no SNP metadata entry in the table. */
  sections?: SnpMetadataSection[] | null;
  /** null: no SEV-ES reset block. */
  resetEip?: number | null;
  /** null: no SEV hashes table entry. */
  hashesTableGpa?: number | null;
}

const u16 = (n: number) => Uint8Array.of(n & 0xff, n >> 8);
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

function metadata(sections: SnpMetadataSection[]): Uint8Array {
  const size = 0x10 + sections.length * 0x0c;
  const descs = sections.map((s) => cat(u32(s.gpa), u32(s.size), u32(s.type)));
  return cat(new TextEncoder().encode('ASEV'), u32(size), u32(1), u32(sections.length), ...descs);
}

function entry(guid: string, data: Uint8Array): Uint8Array {
  return cat(data, u16(data.length + 0x12), guidBytes(guid));
}

export function syntheticOvmf(o: SyntheticOvmf = {}): Uint8Array {
  const sections = o.sections === undefined ? AMDSEV_LIKE_SECTIONS : o.sections;
  const resetEip = o.resetEip === undefined ? 0x80b004 : o.resetEip;
  const hashesGpa = o.hashesTableGpa === undefined ? 0x810c00 : o.hashesTableGpa;
  const image = new Uint8Array(IMAGE_SIZE);
  const entries: Uint8Array[] = [];
  if (sections !== null) {
    image.set(metadata(sections), METADATA_AT);
    entries.push(entry(OVMF_TABLE_GUID.SEV_METADATA, u32(IMAGE_SIZE - METADATA_AT)));
  }
  if (hashesGpa !== null)
    entries.push(entry(OVMF_TABLE_GUID.SEV_HASH_TABLE_RV, cat(u32(hashesGpa), u32(0x400))));
  if (resetEip !== null) entries.push(entry(OVMF_TABLE_GUID.SEV_ES_RESET_BLOCK, u32(resetEip)));
  const body = cat(...entries);
  const table = cat(body, u16(body.length + 0x12), guidBytes(OVMF_TABLE_GUID.FOOTER));
  image.set(table, IMAGE_SIZE - 0x20 - table.length);
  return image;
}

/** A copy of `image` with a little-endian field overwritten. */
export function patched(image: Uint8Array, at: number, value: number, width: 2 | 4): Uint8Array {
  const out = image.slice();
  const v = new DataView(out.buffer);
  if (width === 2) v.setUint16(at, value, true);
  else v.setUint32(at, value, true);
  return out;
}
