/**
 * TCB_VERSION (8 bytes, little-endian u64 in the report): AMD pub. 56860 "TCB_VERSION Structure".
 * The byte layout depends on the product, which a v2 report does not carry, so the report keeps TCBs
 * raw and callers decode them once the product is known:
 *
 *   Milan/Genoa: byte 0 BOOT_LOADER, 1 TEE, 2..5 reserved, 6 SNP, 7 MICROCODE
 *   Turin:       byte 0 FMC, 1 BOOT_LOADER, 2 TEE, 3 SNP, 4..6 reserved, 7 MICROCODE
 *
 * Non-zero reserved bytes are rejected (`malformed_evidence`). The spec marks them reserved and
 * AMD's KDS signs them into the VCEK as the reserved SPLs 1.3.6.1.4.1.3704.1.3.4–.7 (pub. 57230
 * Table 8), always zero today. A non-zero one is either a component this code does not know — which
 * a component-wise minimum check would silently ignore — or a TCB decoded with the wrong product's
 * layout (a Turin TCB read as Milan has SNP in byte 3). Both must fail closed.
 */
import { SealgateError } from '../../errors.js';
import type { SnpProduct, TcbVersion } from './types.js';

const U64_MAX = (1n << 64n) - 1n;

interface TcbLayout {
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  reserved: readonly number[];
}

const LEGACY: TcbLayout = { bootloader: 0, tee: 1, snp: 6, microcode: 7, reserved: [2, 3, 4, 5] };
const TURIN: TcbLayout = { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7, reserved: [4, 5, 6] };

function layoutOf(product: SnpProduct): TcbLayout {
  switch (product) {
    case 'Milan':
    case 'Genoa':
      return LEGACY;
    case 'Turin':
      return TURIN;
    default:
      throw new SealgateError('invalid_argument', `TCB: unknown product ${JSON.stringify(product)}`);
  }
}

/**
 * The 8 bytes of a TCB_VERSION, least significant first: two BigInt → Number conversions for the
 * whole value rather than a BigInt shift per byte (decodeTcb runs ~6 times per verification).
 */
function bytesOf(raw: bigint): (i: number) => number {
  const lo = Number(raw & 0xffffffffn);
  const hi = Number(raw >> 32n);
  return (i) => ((i < 4 ? lo : hi) >>> (8 * (i & 3))) & 0xff;
}

/** Decode a raw TCB_VERSION with `product`'s layout; throws on non-zero reserved bytes. */
export function decodeTcb(raw: bigint, product: SnpProduct): TcbVersion {
  if (typeof raw !== 'bigint' || raw < 0n || raw > U64_MAX) {
    throw new SealgateError('invalid_argument', 'TCB: expected a bigint in [0, 2^64)');
  }
  const layout = layoutOf(product);
  const byteAt = bytesOf(raw);
  for (const i of layout.reserved) {
    const b = byteAt(i);
    if (b !== 0) {
      throw new SealgateError(
        'malformed_evidence',
        `TCB_VERSION 0x${raw.toString(16).padStart(16, '0')}: reserved byte ${i} is 0x${b.toString(16).padStart(2, '0')} in the ${product} layout`,
        { field: 'tcb', product, byte: i, actual: raw },
      );
    }
  }
  const tcb: TcbVersion = {
    bootloader: byteAt(layout.bootloader),
    tee: byteAt(layout.tee),
    snp: byteAt(layout.snp),
    microcode: byteAt(layout.microcode),
  };
  if (layout.fmc !== undefined) tcb.fmc = byteAt(layout.fmc);
  return tcb;
}

/** Encode `tcb` with `product`'s layout. `fmc` is required on Turin and forbidden elsewhere. */
export function encodeTcb(tcb: TcbVersion, product: SnpProduct): bigint {
  const layout = layoutOf(product);
  if (layout.fmc === undefined && tcb.fmc !== undefined) {
    throw new SealgateError('invalid_argument', `TCB: ${product} has no fmc component`);
  }
  if (layout.fmc !== undefined && tcb.fmc === undefined) {
    throw new SealgateError('invalid_argument', `TCB: ${product} requires an fmc component`);
  }
  let raw = 0n;
  for (const k of ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const) {
    const pos = layout[k];
    const v = tcb[k];
    if (pos === undefined || v === undefined) continue;
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new SealgateError('invalid_argument', `TCB: ${k} must be an integer in [0, 255], got ${v}`);
    }
    raw |= BigInt(v) << BigInt(8 * pos);
  }
  return raw;
}

/** Component names in the order they are compared and listed. */
export const TCB_COMPONENTS = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const;
export type TcbComponent = (typeof TCB_COMPONENTS)[number];

/**
 * The components of `actual` that are below `minimum`. SPLs are independent security patch levels,
 * so the comparison is component-wise (a newer microcode does not make up for an older SNP
 * firmware). `fmc` is compared only where both sides have it (Turin).
 */
export function tcbBelow(actual: TcbVersion, minimum: TcbVersion): TcbComponent[] {
  const below: TcbComponent[] = [];
  for (const k of TCB_COMPONENTS) {
    const a = actual[k];
    const m = minimum[k];
    if (a === undefined || m === undefined) continue;
    if (a < m) below.push(k);
  }
  return below;
}
