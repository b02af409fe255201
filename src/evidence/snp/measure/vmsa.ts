/**
 * The initial VMSA of a vCPU, as the VMM hands it to SNP_LAUNCH_UPDATE (PAGE_TYPE_VMSA): the
 * register state at reset, laid out as the SEV-ES save area of AMD64 APM vol. 2, Table B-4
 * ("VMSA Layout, State Save Area for SEV-ES"). Fields not set here are zero.
 *
 * The values are the VMM's conventions, not AMD's: KVM/QEMU start the BSP at the reset vector
 * 0xFFFFFFF0 and the APs at OVMF's SEV-ES reset block; QEMU puts the vCPU signature in RDX, EC2 and
 * GCE a fixed 0x600; the segment attributes, G_PAT and the x87/SSE state differ per VMM.
 */
import { SealgateError } from '../../../errors.js';
import { PAGE_SIZE } from './launch-digest.js';

export const VMMS = ['qemu', 'ec2', 'gce'] as const;
export type Vmm = (typeof VMMS)[number];

/** Where a vCPU starts: the BSP at the architectural reset vector. */
export const BSP_RESET_EIP = 0xfffffff0;

/** Offsets in the save area (APM vol. 2 Table B-4). Segments are { u16 selector, u16 attrib, u32 limit, u64 base }. */
const VMSA = {
  ES: 0x000,
  CS: 0x010,
  SS: 0x020,
  DS: 0x030,
  FS: 0x040,
  GS: 0x050,
  GDTR: 0x060,
  LDTR: 0x070,
  IDTR: 0x080,
  TR: 0x090,
  EFER: 0x0d0,
  CR4: 0x148,
  CR0: 0x158,
  DR7: 0x160,
  DR6: 0x168,
  RFLAGS: 0x170,
  RIP: 0x178,
  G_PAT: 0x268,
  RDX: 0x310,
  SEV_FEATURES: 0x3b0,
  XCR0: 0x3e8,
  MXCSR: 0x408,
  X87_FCW: 0x410,
} as const;

/** Reset values KVM sets for every VMM here (EFER.SVME, CR4.MCE, CR0.ET, DR6/DR7/RFLAGS at reset). */
const EFER_SVME = 0x1000n;
const CR4_MCE = 0x40n;
const CR0_ET = 0x10n;
const DR7_RESET = 0x400n;
const DR6_RESET = 0xffff0ff0n;
const RFLAGS_RESET = 0x2n;
const XCR0_X87 = 0x1n;
/** The PAT MSR's reset value (APM vol. 2 §A.3). */
const PAT_RESET = 0x0007040600070406n;

interface VmmRegisters {
  csAttrib: number;
  ssAttrib: number;
  trAttrib: number;
  gPat: bigint;
  /** null: RDX carries the vCPU signature. */
  rdx: bigint | null;
  mxcsr: number;
  fcw: number;
}

function vmmRegisters(vmm: Vmm, eip: number): VmmRegisters {
  switch (vmm) {
    case 'qemu':
      return {
        csAttrib: 0x9b,
        ssAttrib: 0x93,
        trAttrib: 0x8b,
        gPat: PAT_RESET,
        rdx: null,
        mxcsr: 0x1f80,
        fcw: 0x37f,
      };
    case 'ec2':
      return {
        csAttrib: eip === BSP_RESET_EIP ? 0x9a : 0x9b,
        ssAttrib: 0x92,
        trAttrib: 0x83,
        gPat: PAT_RESET,
        rdx: 0x600n,
        mxcsr: 0,
        fcw: 0,
      };
    case 'gce':
      return {
        csAttrib: 0x9b,
        ssAttrib: 0x93,
        trAttrib: 0x8b,
        gPat: 0x00070106n,
        rdx: 0x600n,
        mxcsr: 0,
        fcw: 0,
      };
  }
}

function setSegment(v: DataView, at: number, selector: number, attrib: number, base: number): void {
  v.setUint16(at, selector, true);
  v.setUint16(at + 2, attrib, true);
  v.setUint32(at + 4, 0xffff, true);
  v.setBigUint64(at + 8, BigInt(base), true);
}

export interface VmsaInput {
  /** Where this vCPU starts: `BSP_RESET_EIP`, or OVMF's SEV-ES reset block for an AP. */
  eip: number;
  /** SEV_FEATURES (the guest features), u64. */
  sevFeatures: bigint;
  /** CPUID Fn0000_0001_EAX; QEMU only (EC2 and GCE put 0x600 in RDX). */
  vcpuSignature: number;
  vmm: Vmm;
}

/** One vCPU's initial VMSA page. */
export function buildVmsa(input: VmsaInput): Uint8Array {
  if (input.sevFeatures < 0n || input.sevFeatures >= 1n << 64n) {
    throw new SealgateError('invalid_argument', 'VMSA: guest features must be a u64');
  }
  const regs = vmmRegisters(input.vmm, input.eip);
  const page = new Uint8Array(PAGE_SIZE);
  const v = new DataView(page.buffer);
  setSegment(v, VMSA.ES, 0, 0x93, 0);
  setSegment(v, VMSA.CS, 0xf000, regs.csAttrib, (input.eip & 0xffff0000) >>> 0);
  setSegment(v, VMSA.SS, 0, regs.ssAttrib, 0);
  setSegment(v, VMSA.DS, 0, 0x93, 0);
  setSegment(v, VMSA.FS, 0, 0x93, 0);
  setSegment(v, VMSA.GS, 0, 0x93, 0);
  setSegment(v, VMSA.GDTR, 0, 0, 0);
  setSegment(v, VMSA.LDTR, 0, 0x82, 0);
  setSegment(v, VMSA.IDTR, 0, 0, 0);
  setSegment(v, VMSA.TR, 0, regs.trAttrib, 0);
  v.setBigUint64(VMSA.EFER, EFER_SVME, true);
  v.setBigUint64(VMSA.CR4, CR4_MCE, true);
  v.setBigUint64(VMSA.CR0, CR0_ET, true);
  v.setBigUint64(VMSA.DR7, DR7_RESET, true);
  v.setBigUint64(VMSA.DR6, DR6_RESET, true);
  v.setBigUint64(VMSA.RFLAGS, RFLAGS_RESET, true);
  v.setBigUint64(VMSA.RIP, BigInt(input.eip & 0xffff), true);
  v.setBigUint64(VMSA.G_PAT, regs.gPat, true);
  v.setBigUint64(VMSA.RDX, regs.rdx ?? BigInt(input.vcpuSignature), true);
  v.setBigUint64(VMSA.SEV_FEATURES, input.sevFeatures, true);
  v.setBigUint64(VMSA.XCR0, XCR0_X87, true);
  v.setUint32(VMSA.MXCSR, regs.mxcsr, true);
  v.setUint16(VMSA.X87_FCW, regs.fcw, true);
  return page;
}
