/**
 * Which processor generation produced a report or a certificate.
 *
 * From CPUID (report v3+, bytes 0x188..0x18A hold the combined family and model, as CPUID Fn0000_0001
 * EAX yields them): the ranges are virtee/sev's `Generation::identify_cpu` (src/lib.rs), which covers
 * the whole EPYC line of each generation:
 *   Milan  family 0x19, models 0x00–0x0F
 *   Genoa  family 0x19, models 0x10–0x1F (Genoa) and 0xA0–0xAF (Bergamo, Siena: they are endorsed
 *          by the Genoa ARK/ASK and KDS product "Genoa")
 *   Turin  family 0x1A, models 0x00–0x11 (Turin and Turin dense)
 * google/go-sev-guest (abi.SevProductFromCpuid1Eax) knows only one model per generation — Milan 0x01,
 * Genoa 0x11, Turin 0x02 — each inside these ranges, and so are the real vectors (0x19/0x01,
 * 0x19/0x11, 0x1A/0x02). Stepping does not change the product.
 *
 * From the VCEK/VLEK productName extension (pub. 57230 Table 8): "Milan-B0", "Genoa", "Turin" …:
 * the generation, optionally followed by "-" and a stepping version (<letter><digit>).
 */
import { SealgateError } from '../../errors.js';
import type { SnpProduct } from './types.js';

export interface Cpuid {
  family: number;
  model: number;
  stepping: number;
}

function checkByte(v: unknown, name: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
    throw new SealgateError('invalid_argument', `CPUID: ${name} must be an integer in [0, 255]`);
  }
}

/** The product for a report's CPUID bytes, or null when it is not an SEV-SNP generation we know. */
export function productFromCpuid(cpuid: Cpuid): SnpProduct | null {
  checkByte(cpuid?.family, 'family');
  checkByte(cpuid.model, 'model');
  checkByte(cpuid.stepping, 'stepping');
  const { family, model } = cpuid;
  if (family === 0x19) {
    if (model <= 0x0f) return 'Milan';
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) return 'Genoa';
    return null;
  }
  if (family === 0x1a && model <= 0x11) return 'Turin';
  return null;
}

const NAME = /^(Milan|Genoa|Turin)(?:-[A-Z][0-9])?$/;

/** The product for a certificate's productName ("Milan-B0" → Milan), or null if unknown. */
export function productFromName(name: string): SnpProduct | null {
  if (typeof name !== 'string') return null;
  const m = NAME.exec(name);
  return m ? (m[1] as SnpProduct) : null;
}
