/**
 * The parts against facts outside sev-snp-measure: EFI_GUID byte order (UEFI spec Appendix A),
 * CPUID signatures of AMD's product lines (CPUID spec pub. 25481), the SEV hashes table's size and
 * GUID positions (QEMU's `SevHashTable`), and the VMSA fields APM vol. 2 Table B-4 places.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../../src/bytes.js';
import { guidBytes, guidText } from '../../../../src/evidence/snp/measure/guid.js';
import { SEV_HASHES_GUID, sevHashesTable } from '../../../../src/evidence/snp/measure/sev-hashes.js';
import { cpuSignature, VCPU_TYPES } from '../../../../src/evidence/snp/measure/vcpu-types.js';
import { buildVmsa } from '../../../../src/evidence/snp/measure/vmsa.js';

describe('measure parts', () => {
  it('EFI_GUID memory order: first three groups little-endian, the rest as written', () => {
    const text = '96b582de-1fb2-45f7-baea-a366c55a082d';
    expect(toHex(guidBytes(text))).toBe('de82b596b21ff745baeaa366c55a082d');
    expect(guidText(guidBytes(text))).toBe(text);
  });

  it('CPUID Fn0000_0001_EAX of Naples, Milan, Genoa and Turin', () => {
    expect(cpuSignature(0x17, 0x01, 0x2)).toBe(0x800f12);
    expect(VCPU_TYPES['EPYC-Milan']).toBe(0xa00f11);
    expect(VCPU_TYPES['EPYC-Genoa']).toBe(0xa10f10);
    expect(VCPU_TYPES['EPYC-Turin']).toBe(0xb00f00);
  });

  it('the SEV hashes table: 0xa8 bytes padded to 0xb0, entries cmdline, initrd, kernel', () => {
    const table = sevHashesTable({ kernel: new Uint8Array(0) });
    expect(table.length).toBe(0xb0);
    const v = new DataView(table.buffer);
    expect(v.getUint16(0x10, true)).toBe(0xa8);
    expect(table.subarray(0, 16)).toEqual(guidBytes(SEV_HASHES_GUID.TABLE_HEADER));
    expect(table.subarray(0x12, 0x22)).toEqual(guidBytes(SEV_HASHES_GUID.CMDLINE));
    expect(table.subarray(0x44, 0x54)).toEqual(guidBytes(SEV_HASHES_GUID.INITRD));
    expect(table.subarray(0x76, 0x86)).toEqual(guidBytes(SEV_HASHES_GUID.KERNEL));
    expect(v.getUint16(0x22, true)).toBe(0x32);
    // SHA-256 of the lone NUL QEMU hashes for an empty command line.
    expect(toHex(table.subarray(0x24, 0x44))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(table.subarray(0xa8)).toEqual(new Uint8Array(8));
  });

  it('the VMSA: BSP at the reset vector, signature in RDX under QEMU, 0x600 under EC2/GCE', () => {
    const vmsa = (vmm: 'qemu' | 'ec2' | 'gce') =>
      new DataView(buildVmsa({ eip: 0xfffffff0, sevFeatures: 0x21n, vcpuSignature: 0x800f12, vmm }).buffer);
    const q = vmsa('qemu');
    expect(q.getBigUint64(0x018, true)).toBe(0xffff0000n); // CS.base
    expect(q.getBigUint64(0x178, true)).toBe(0xfff0n); // RIP
    expect(q.getBigUint64(0x310, true)).toBe(0x800f12n); // RDX
    expect(q.getBigUint64(0x3b0, true)).toBe(0x21n); // SEV_FEATURES
    expect(q.getBigUint64(0x268, true)).toBe(0x0007040600070406n); // G_PAT
    expect(vmsa('ec2').getBigUint64(0x310, true)).toBe(0x600n);
    expect(vmsa('ec2').getUint16(0x012, true)).toBe(0x9a); // CS.attrib of the BSP under EC2
    expect(vmsa('gce').getBigUint64(0x268, true)).toBe(0x00070106n);
  });
});
