/**
 * The vCPU signature QEMU puts in RDX at reset (CPUID Fn0000_0001_EAX of the vCPU model; AMD CPUID
 * Specification pub. 25481, "Family, Model, Stepping Identifiers"), for QEMU's named AMD EPYC models
 * (target/i386/cpu.c `builtin_x86_defs`). It is part of every VMSA, so of the measurement.
 */
import { SealgateError } from '../../../errors.js';

/** EAX: stepping 3:0, base model 7:4, base family 11:8, extended model 19:16, extended family 27:20. */
export function cpuSignature(family: number, model: number, stepping: number): number {
  const familyLow = Math.min(family, 0xf);
  const familyHigh = family > 0xf ? (family - 0xf) & 0xff : 0;
  return (
    ((familyHigh << 20) |
      (((model >> 4) & 0xf) << 16) |
      (familyLow << 8) |
      ((model & 0xf) << 4) |
      (stepping & 0xf)) >>>
    0
  );
}

const EPYC = cpuSignature(0x17, 0x01, 0x2);
const EPYC_ROME = cpuSignature(0x17, 0x31, 0x0);
const EPYC_MILAN = cpuSignature(0x19, 0x01, 0x1);
const EPYC_GENOA = cpuSignature(0x19, 0x11, 0x0);
const EPYC_TURIN = cpuSignature(0x1a, 0x00, 0x0);

/** QEMU `-cpu` names → signature. Versions of one model share its family/model/stepping. */
export const VCPU_TYPES: Readonly<Record<string, number>> = {
  EPYC: EPYC,
  'EPYC-v1': EPYC,
  'EPYC-v2': EPYC,
  'EPYC-IBPB': EPYC,
  'EPYC-v3': EPYC,
  'EPYC-v4': EPYC,
  'EPYC-Rome': EPYC_ROME,
  'EPYC-Rome-v1': EPYC_ROME,
  'EPYC-Rome-v2': EPYC_ROME,
  'EPYC-Rome-v3': EPYC_ROME,
  'EPYC-Milan': EPYC_MILAN,
  'EPYC-Milan-v1': EPYC_MILAN,
  'EPYC-Milan-v2': EPYC_MILAN,
  'EPYC-Genoa': EPYC_GENOA,
  'EPYC-Genoa-v1': EPYC_GENOA,
  'EPYC-Turin': EPYC_TURIN,
};

/** The signature of a named vCPU type; an unknown name is refused, never guessed. */
export function vcpuSignatureOf(name: string): number {
  const sig = Object.hasOwn(VCPU_TYPES, name) ? VCPU_TYPES[name] : undefined;
  if (sig === undefined) {
    throw new SealgateError(
      'invalid_argument',
      `unknown vCPU type ${JSON.stringify(name)} (known: ${Object.keys(VCPU_TYPES).join(', ')})`,
      { name },
    );
  }
  return sig;
}
