/**
 * GUIDs as firmware stores them: EFI_GUID (UEFI spec, Appendix A) is { u32 Data1, u16 Data2,
 * u16 Data3, u8 Data4[8] } in little-endian memory, so the text's first three groups are byte-swapped
 * and the last two are kept in order. Both the OVMF GUIDed table and QEMU's SEV hashes table use it.
 */
import { fromHex, toHex } from '../../../bytes.js';
import { SealgateError } from '../../../errors.js';

export const GUID_SIZE = 16;

const GUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `"96b582de-1fb2-45f7-baea-a366c55a082d"` → its 16 bytes in EFI_GUID memory order. */
export function guidBytes(text: string): Uint8Array {
  if (!GUID_TEXT.test(text)) throw new SealgateError('internal', `guidBytes: not a lower-case GUID: ${text}`);
  const [d1, d2, d3, d4, d5] = text.split('-') as [string, string, string, string, string];
  const swapped = (hex: string) => fromHex(hex).reverse();
  const out = new Uint8Array(GUID_SIZE);
  out.set(swapped(d1), 0);
  out.set(swapped(d2), 4);
  out.set(swapped(d3), 6);
  out.set(fromHex(d4 + d5), 8);
  return out;
}

/** The inverse of `guidBytes`, for messages and map keys. `bytes` must be 16 long. */
export function guidText(bytes: Uint8Array): string {
  const hex = (from: number, to: number, swap: boolean) => {
    const part = bytes.slice(from, to);
    return toHex(swap ? part.reverse() : part);
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-');
}
