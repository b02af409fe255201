/**
 * What a VMM reads from an OVMF image before an SNP launch: the GUIDed table at its end and the SNP
 * metadata that table points to. Parse only, every length checked against the image; no hashing.
 *
 * Conventions (OVMF's and QEMU's, not AMD's):
 * - The image is mapped so that it ends at 4 GiB (QEMU's pflash below 4 GiB).
 * - The GUIDed table ends 0x20 bytes before the end of the image (edk2 OvmfPkg/ResetVector
 *   `ResetVectorVtf0.asm`; QEMU `pc_system_parse_ovmf_flash`). Its last entry is the footer
 *   { u16 total length, GUID 96b582de-… }; the entries before it are walked backwards, each
 *   { data, u16 length (data + 0x12), GUID }, little-endian.
 * - SNP metadata (edk2 `OvmfSevMetadata.asm`): the table entry dc886566-… holds a u32 offset from the
 *   end of the image to { "ASEV", u32 size, u32 version = 1, u32 count } and `count` descriptors
 *   { u32 gpa, u32 size, u32 type }.
 */
import { SealgateError } from '../../../errors.js';
import { GUID_SIZE, guidBytes, guidText } from './guid.js';
import { PAGE_SIZE } from './launch-digest.js';

/** GUIDs of the table entries Sealgate reads (edk2 OvmfPkg/ResetVector, QEMU target/i386/sev.c). */
export const OVMF_TABLE_GUID = {
  FOOTER: '96b582de-1fb2-45f7-baea-a366c55a082d',
  SEV_HASH_TABLE_RV: '7255371f-3a3b-4b04-927b-1da6efa8d454',
  SEV_ES_RESET_BLOCK: '00f771de-1a7e-4fcb-890e-68c77e2fb44e',
  SEV_METADATA: 'dc886566-984a-4798-a75e-5585a7bf67cc',
} as const;

/** The image's last byte is at 4 GiB - 1. */
export const OVMF_END_GPA = 0x1_0000_0000n;
/** The footer entry ends this many bytes before the end of the image. */
const TABLE_END_FROM_IMAGE_END = 0x20;
/** { u16 length, GUID } closing every entry. */
const ENTRY_HEADER_SIZE = 2 + GUID_SIZE;

const METADATA_SIGNATURE = 'ASEV';
const METADATA_VERSION = 1;
/** { "ASEV", u32 size, u32 version, u32 count }. */
const METADATA_HEADER_SIZE = 0x10;
/** { u32 gpa, u32 size, u32 type }. */
const METADATA_DESC_SIZE = 0x0c;

/** Section types of OVMF's SNP metadata (edk2 OvmfSevMetadata.asm). */
export const SNP_SECTION = {
  SNP_SEC_MEM: 0x01,
  SNP_SECRETS: 0x02,
  CPUID: 0x03,
  SVSM_CAA: 0x04,
  SNP_KERNEL_HASHES: 0x10,
} as const;
export type SnpSectionType = (typeof SNP_SECTION)[keyof typeof SNP_SECTION];

export interface SnpMetadataSection {
  gpa: number;
  size: number;
  type: SnpSectionType;
}

export interface OvmfImage {
  /** The bytes parsed: the whole image, or (with a precomputed OVMF hash) any tail holding the table. */
  bytes: Uint8Array;
  /** GUIDed table entries, GUID text → entry data (without its length and GUID). */
  table: ReadonlyMap<string, Uint8Array>;
  /** The SNP metadata sections in image order; null when the image has none. */
  snpMetadata: SnpMetadataSection[] | null;
}

function malformed(message: string, detail?: Record<string, unknown>): SealgateError {
  return new SealgateError('malformed_image', `OVMF: ${message}`, detail);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The footer { u16 length, GUID }, or null when the image has no GUIDed table there. */
function readFooter(bytes: Uint8Array): { start: number; length: number } | null {
  const start = bytes.length - TABLE_END_FROM_IMAGE_END - ENTRY_HEADER_SIZE;
  if (start < 0) throw malformed(`${bytes.length} bytes is too short for the GUIDed table footer`);
  const guid = bytes.subarray(start + 2, start + ENTRY_HEADER_SIZE);
  if (!sameBytes(guid, guidBytes(OVMF_TABLE_GUID.FOOTER))) return null;
  return { start, length: view(bytes).getUint16(start, true) };
}

/** Walks the GUIDed table backwards from the footer; every entry must lie inside the table. */
export function parseGuidedTable(bytes: Uint8Array): Map<string, Uint8Array> | null {
  const footer = readFooter(bytes);
  if (footer === null) return null;
  const tableSize = footer.length - ENTRY_HEADER_SIZE;
  if (tableSize < 0 || tableSize > footer.start) {
    throw malformed(`GUIDed table length ${footer.length} does not fit the image`, { length: footer.length });
  }
  const table = new Map<string, Uint8Array>();
  let end = footer.start;
  const tableStart = footer.start - tableSize;
  while (end > tableStart) {
    if (end - tableStart < ENTRY_HEADER_SIZE)
      throw malformed(`GUIDed table: ${end - tableStart} stray bytes`);
    const header = end - ENTRY_HEADER_SIZE;
    const length = view(bytes).getUint16(header, true);
    if (length < ENTRY_HEADER_SIZE || length > end - tableStart) {
      throw malformed(`GUIDed table entry length ${length} outside the table`, { length });
    }
    const guid = guidText(bytes.subarray(header + 2, end));
    if (table.has(guid)) throw malformed(`GUIDed table: entry ${guid} twice`);
    table.set(guid, bytes.slice(end - length, header));
    end -= length;
  }
  return table;
}

/** The first u32 of a table entry (an address or an offset), or null when the entry is absent. */
export function tableU32(image: OvmfImage, guid: string): number | null {
  const data = image.table.get(guid);
  if (data === undefined) return null;
  if (data.length < 4) throw malformed(`entry ${guid} has ${data.length} bytes, needs 4`);
  return view(data).getUint32(0, true);
}

function sectionType(value: number, index: number): SnpSectionType {
  const known = Object.values(SNP_SECTION) as number[];
  if (!known.includes(value)) {
    throw new SealgateError(
      'unmeasurable_launch',
      `OVMF: SNP metadata section ${index} has type 0x${value.toString(16)}, which no VMM measures`,
      { index, type: value },
    );
  }
  return value as SnpSectionType;
}

function readSection(bytes: Uint8Array, offset: number, index: number): SnpMetadataSection {
  const v = view(bytes);
  const gpa = v.getUint32(offset, true);
  const size = v.getUint32(offset + 4, true);
  const type = sectionType(v.getUint32(offset + 8, true), index);
  if (gpa % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size === 0) {
    throw malformed(`SNP metadata section ${index} is not whole 4 KiB pages`, { index, gpa, size });
  }
  if (gpa + size > Number(OVMF_END_GPA)) {
    throw malformed(`SNP metadata section ${index} ends above 4 GiB`, { index, gpa, size });
  }
  const onePage = type === SNP_SECTION.SNP_SECRETS || type === SNP_SECTION.CPUID;
  if ((onePage || type === SNP_SECTION.SNP_KERNEL_HASHES) && size !== PAGE_SIZE) {
    throw malformed(`SNP metadata section ${index} (type 0x${type.toString(16)}) must be one page`, {
      index,
      size,
    });
  }
  return { gpa, size, type };
}

/** The SNP metadata the table's dc886566-… entry points to, every length inside the image. */
function parseSnpMetadata(bytes: Uint8Array, offsetFromEnd: number): SnpMetadataSection[] {
  const start = bytes.length - offsetFromEnd;
  if (offsetFromEnd < METADATA_HEADER_SIZE || start < 0) {
    throw malformed(`SNP metadata offset ${offsetFromEnd} outside the image`, { offsetFromEnd });
  }
  const v = view(bytes);
  const signature = String.fromCharCode(...bytes.subarray(start, start + 4));
  if (signature !== METADATA_SIGNATURE) throw malformed('SNP metadata signature is not "ASEV"');
  const size = v.getUint32(start + 4, true);
  const version = v.getUint32(start + 8, true);
  const count = v.getUint32(start + 12, true);
  if (version !== METADATA_VERSION) throw malformed(`SNP metadata version ${version}, expected 1`);
  if (size > offsetFromEnd || size !== METADATA_HEADER_SIZE + count * METADATA_DESC_SIZE) {
    throw malformed(`SNP metadata size ${size} does not hold ${count} sections inside the image`, {
      size,
      count,
    });
  }
  const sections: SnpMetadataSection[] = [];
  for (let i = 0; i < count; i++) {
    sections.push(readSection(bytes, start + METADATA_HEADER_SIZE + i * METADATA_DESC_SIZE, i));
  }
  return sections;
}

/** Parses the GUIDed table and the SNP metadata of an OVMF image (or of its tail). */
export function parseOvmf(bytes: Uint8Array): OvmfImage {
  if (!(bytes instanceof Uint8Array))
    throw new SealgateError('invalid_argument', 'OVMF: expected a Uint8Array');
  const table = parseGuidedTable(bytes);
  if (table === null) {
    throw new SealgateError('unmeasurable_launch', 'OVMF: no GUIDed table at the end of the image', {
      size: bytes.length,
    });
  }
  const image: OvmfImage = { bytes, table, snpMetadata: null };
  const offset = tableU32(image, OVMF_TABLE_GUID.SEV_METADATA);
  if (offset !== null) image.snpMetadata = parseSnpMetadata(bytes, offset);
  return image;
}
