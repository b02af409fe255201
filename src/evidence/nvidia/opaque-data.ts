/**
 * NVIDIA's OpaqueData in the MEASUREMENTS response: (type u16 LE, size u16 LE, value) items filling
 * OpaqueData exactly (nvtrust `OpaqueData.parse`; NVIDIA attestation-sdk `gpu_opaque_data_parser`).
 *
 * Stricter than nvtrust where nvtrust would silently read past an item or keep the last of two:
 * an item that overruns, a type not in `OPAQUE_TYPES` (nvtrust and trustee fail on those too), a
 * duplicated type (trustee fails), and text fields that are not ASCII followed by NUL padding all
 * throw `malformed_evidence`. DRIVER_VERSION and VBIOS_VERSION are required (trustee: they determine
 * which RIMs apply).
 */
import { SealgateError } from '../../errors.js';
import {
  FWID_SIZE,
  hex,
  MSRSCNT_ITEM_SIZE,
  OPAQUE_ITEM_HEAD_SIZE,
  OPAQUE_TYPES,
  type OpaqueTypeName,
  SWITCH_PDI_SIZE,
  VBIOS_VERSION_SIZE,
} from './layout.js';
import type { NvidiaOpaqueData, OpaqueItem } from './types.js';

function malformed(message: string, detail: Record<string, unknown> = {}): SealgateError {
  return new SealgateError('malformed_evidence', `GPU evidence: opaque data: ${message}`, {
    field: 'opaqueData',
    ...detail,
  });
}

const NAMES = OPAQUE_TYPES as Readonly<Record<number, OpaqueTypeName>>;

/** The items of `data` (OpaqueData's bytes), in wire order. `base` is data's offset, for messages. */
export function readOpaqueItems(data: Uint8Array, base: number): OpaqueItem[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const items: OpaqueItem[] = [];
  const seen = new Set<number>();
  let pos = 0;
  while (pos < data.length) {
    if (pos + OPAQUE_ITEM_HEAD_SIZE > data.length) {
      throw malformed(
        `item head at ${hex(base + pos)} overruns OpaqueData (${data.length - pos} bytes left)`,
      );
    }
    const type = view.getUint16(pos, true);
    const size = view.getUint16(pos + 2, true);
    const name = NAMES[type];
    if (name === undefined) throw malformed(`unknown type ${type} at ${hex(base + pos)}`, { type });
    if (seen.has(type)) throw malformed(`type ${name} (${type}) appears twice`, { type });
    seen.add(type);
    const start = pos + OPAQUE_ITEM_HEAD_SIZE;
    if (start + size > data.length) {
      throw malformed(`${name} at ${hex(base + pos)}: size ${size} overruns OpaqueData`, { type });
    }
    items.push({ type, name, value: data.slice(start, start + size) });
    pos = start + size;
  }
  return items;
}

/** ASCII text followed by NUL padding (what NVIDIA writes); anything else is malformed. */
function text(item: OpaqueItem): string {
  let end = item.value.length;
  while (end > 0 && item.value[end - 1] === 0) end--;
  let s = '';
  for (let i = 0; i < end; i++) {
    const c = item.value[i]!;
    if (c < 0x20 || c > 0x7e) {
      throw malformed(`${item.name}: byte ${i} is 0x${c.toString(16).padStart(2, '0')}, not printable ASCII`);
    }
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * VBIOS_VERSION (8 bytes) as nvtrust's `format_vbios_version` and trustee print it: the u32 LE at
 * 0 as four hex bytes, most significant first, then byte 4 — 005e0096 01000000 → "96.00.5e.00.01".
 */
export function formatVbiosVersion(value: Uint8Array): string {
  if (value.length !== VBIOS_VERSION_SIZE) {
    throw malformed(`VBIOS_VERSION is ${value.length} bytes, expected ${VBIOS_VERSION_SIZE}`);
  }
  const h = (b: number): string => b.toString(16).padStart(2, '0');
  return [value[3]!, value[2]!, value[1]!, value[0]!, value[4]!].map(h).join('.');
}

function u32List(item: OpaqueItem, width: number): number[] {
  if (item.value.length % width !== 0) {
    throw malformed(`${item.name} is ${item.value.length} bytes, not a multiple of ${width}`);
  }
  const view = new DataView(item.value.buffer, item.value.byteOffset, item.value.byteLength);
  const out: number[] = [];
  for (let i = 0; i < item.value.length; i += width) out.push(view.getUint32(i, true));
  return out;
}

function littleEndian(item: OpaqueItem, maxBytes: number): number {
  if (item.value.length === 0 || item.value.length > maxBytes) {
    throw malformed(`${item.name} is ${item.value.length} bytes, expected 1..${maxBytes}`);
  }
  let n = 0;
  for (let i = item.value.length - 1; i >= 0; i--) n = n * 256 + item.value[i]!;
  return n;
}

/** Decodes the items nvtrust gives meaning to; every item stays available raw in `items`. */
export function decodeOpaqueData(data: Uint8Array, base: number): NvidiaOpaqueData {
  const items = readOpaqueItems(data, base);
  const get = (name: OpaqueTypeName): OpaqueItem | undefined => items.find((i) => i.name === name);
  const optionalText = (name: OpaqueTypeName): string | null => {
    const item = get(name);
    return item === undefined ? null : text(item);
  };
  const driver = get('DRIVER_VERSION');
  const vbios = get('VBIOS_VERSION');
  if (driver === undefined || vbios === undefined) {
    throw malformed('DRIVER_VERSION and VBIOS_VERSION are required');
  }
  const fwid = get('FWID');
  if (fwid !== undefined && fwid.value.length !== FWID_SIZE) {
    throw malformed(`FWID is ${fwid.value.length} bytes, expected ${FWID_SIZE}`);
  }
  const nvdec = get('NVDEC0_STATUS');
  if (nvdec !== undefined && nvdec.value.length !== 1) {
    throw malformed(`NVDEC0_STATUS is ${nvdec.value.length} bytes, expected 1`);
  }
  const counts = get('MSRSCNT');
  const pdi = get('SWITCH_PDI');
  if (pdi !== undefined && pdi.value.length % SWITCH_PDI_SIZE !== 0) {
    throw malformed(`SWITCH_PDI is ${pdi.value.length} bytes, not a multiple of ${SWITCH_PDI_SIZE}`);
  }
  const version = get('OPAQUE_DATA_VERSION');
  return {
    items,
    driverVersion: text(driver),
    vbiosVersion: formatVbiosVersion(vbios.value),
    fwid: fwid === undefined ? null : fwid.value.slice(),
    project: optionalText('PROJECT'),
    projectSku: optionalText('PROJECT_SKU'),
    chipSku: optionalText('CHIP_SKU'),
    chipInfo: optionalText('CHIP_INFO'),
    nvdec0Status: nvdec === undefined ? null : nvdec.value[0]!,
    measurementCounts: counts === undefined ? null : u32List(counts, MSRSCNT_ITEM_SIZE),
    opaqueDataVersion: version === undefined ? null : littleEndian(version, 4),
  };
}
