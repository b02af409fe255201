/**
 * The SEV hashes table of measured direct boot (QEMU's convention, target/i386/sev.c
 * `SevHashTable`; OVMF checks it in OvmfPkg/AmdSev/BlobVerifierLibSevHashes): QEMU writes the
 * SHA-256 of the kernel, the initrd and the NUL-terminated command line into the page OVMF reserves
 * for it (the SNP_KERNEL_HASHES metadata section), at the GPA of OVMF's 7255371f-… table entry, and
 * that page is measured as a NORMAL page. OVMF refuses to boot a kernel whose hash differs.
 *
 * Layout, packed little-endian: { GUID 9438d606-…, u16 length = 0xa8, entry cmdline, entry initrd,
 * entry kernel }, each entry { GUID, u16 length = 0x32, SHA-256 }, then zero padding to 16 bytes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../../../bytes.js';
import { SealgateError } from '../../../errors.js';
import { GUID_SIZE, guidBytes } from './guid.js';
import { PAGE_SIZE } from './launch-digest.js';

export const SEV_HASHES_GUID = {
  TABLE_HEADER: '9438d606-4f22-4cc9-b479-a793d411fd21',
  KERNEL: '4de79437-abd2-427f-b835-d5b172d2045b',
  INITRD: '44baf731-3a2f-4bd7-9af1-41e29169781d',
  CMDLINE: '97d02dd8-bd20-4c94-aa78-e7714d36ab2a',
} as const;

const SHA256_SIZE = 0x20;
/** { GUID, u16 length, SHA-256 }. */
const ENTRY_SIZE = GUID_SIZE + 2 + SHA256_SIZE;
/** { GUID, u16 length, three entries }. */
const TABLE_SIZE = GUID_SIZE + 2 + 3 * ENTRY_SIZE;
/** QEMU pads the table to a multiple of 16 bytes (`PaddedSevHashTable`). */
export const PADDED_TABLE_SIZE = (TABLE_SIZE + 15) & ~15;

/** What QEMU's -kernel, -initrd and -append hand the guest. */
export interface DirectBoot {
  kernel: Uint8Array;
  /** Absent: QEMU hashes an empty initrd. */
  initrd?: Uint8Array;
  /** The kernel command line; absent or empty: QEMU hashes the lone NUL. */
  cmdline?: string;
}

function entry(guid: string, hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENTRY_SIZE);
  out.set(guidBytes(guid), 0);
  new DataView(out.buffer).setUint16(GUID_SIZE, ENTRY_SIZE, true);
  out.set(hash, GUID_SIZE + 2);
  return out;
}

/** The command line as QEMU hashes it: UTF-8 bytes and a terminating NUL. */
function cmdlineBytes(cmdline: string | undefined): Uint8Array {
  const text = utf8.encode(cmdline ?? '');
  if (text.includes(0))
    throw new SealgateError('invalid_argument', 'direct boot: the command line contains NUL');
  const out = new Uint8Array(text.length + 1);
  out.set(text, 0);
  return out;
}

/** The padded table QEMU writes for this kernel, initrd and command line. */
export function sevHashesTable(boot: DirectBoot): Uint8Array {
  const out = new Uint8Array(PADDED_TABLE_SIZE);
  out.set(guidBytes(SEV_HASHES_GUID.TABLE_HEADER), 0);
  new DataView(out.buffer).setUint16(GUID_SIZE, TABLE_SIZE, true);
  let offset = GUID_SIZE + 2;
  for (const e of [
    entry(SEV_HASHES_GUID.CMDLINE, sha256(cmdlineBytes(boot.cmdline))),
    entry(SEV_HASHES_GUID.INITRD, sha256(boot.initrd ?? new Uint8Array(0))),
    entry(SEV_HASHES_GUID.KERNEL, sha256(boot.kernel)),
  ]) {
    out.set(e, offset);
    offset += e.length;
  }
  return out;
}

/** The 4 KiB page measured for the SNP_KERNEL_HASHES section: zeros, the table at `offsetInPage`. */
export function sevHashesPage(boot: DirectBoot, offsetInPage: number): Uint8Array {
  if (offsetInPage < 0 || offsetInPage + PADDED_TABLE_SIZE > PAGE_SIZE) {
    throw new SealgateError(
      'malformed_image',
      `OVMF: the SEV hashes table at page offset 0x${offsetInPage.toString(16)} does not fit its page`,
    );
  }
  const page = new Uint8Array(PAGE_SIZE);
  page.set(sevHashesTable(boot), offsetInPage);
  return page;
}
