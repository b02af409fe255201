/**
 * The loud notice a program on a simulated platform prints and logs at start (the service's and
 * the AI worker's words, one frame): its evidence proves nothing about real hardware.
 */
import type { AttestationPlatform } from './types.js';

/** The TEE a simulated platform of `kind` stands in for, as the notice names it. */
export function simulatedTee(kind: AttestationPlatform['kind']): string {
  return kind === 'tdx' ? 'Intel TDX' : 'SEV-SNP';
}

/** `lines` (at most 68 characters each) in a frame of asterisks 72 wide. */
export function bannerBox(lines: readonly string[]): string {
  const rule = '*'.repeat(72);
  return [rule, ...lines.map((text) => `*  ${text.padEnd(68)}*`), rule].join('\n');
}
