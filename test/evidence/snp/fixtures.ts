/**
 * Synthetic report fields for the structural tests, so they run without the real vectors.
 * Every byte field gets a distinct non-zero pattern, so a wrong offset shows up as a wrong value.
 */

import { decodeGuestPolicy, decodePlatformInfo } from '../../../src/evidence/snp/policy-bits.js';
import type { SnpReportFields } from '../../../src/evidence/snp/serialize-report.js';
import { encodeTcb } from '../../../src/evidence/snp/tcb.js';

export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + 7 * i) % 251 || 1;
  return out;
}

/** A well-formed report of `version` (2, 3, 4 or 5) with non-trivial values everywhere. */
export function syntheticFields(version: 2 | 3 | 4 | 5): SnpReportFields {
  const turin = version === 5;
  const product = turin ? 'Turin' : 'Genoa';
  const tcb = (n: number) =>
    encodeTcb(
      turin
        ? { fmc: n, bootloader: n + 1, tee: n + 2, snp: n + 3, microcode: n + 4 }
        : { bootloader: n + 1, tee: n + 2, snp: n + 3, microcode: n + 4 },
      product,
    );
  return {
    version,
    guestSvn: 0x01020304,
    // ABI major 0x37 minor 1; SMT, bit 17, DEBUG, PAGE_SWAP_DISABLE
    policy: decodeGuestPolicy(0x20b3701n),
    familyId: pattern(16, 1),
    imageId: pattern(16, 2),
    vmpl: 2,
    signatureAlgo: 1,
    currentTcb: tcb(10),
    platformInfo: decodePlatformInfo(0xa5n),
    authorKeyEn: true,
    maskChipKey: false,
    signingKey: 'vlek',
    reportData: pattern(64, 3),
    measurement: pattern(48, 4),
    hostData: pattern(32, 5),
    idKeyDigest: pattern(48, 6),
    authorKeyDigest: pattern(48, 7),
    reportId: pattern(32, 8),
    reportIdMa: pattern(32, 9),
    reportedTcb: tcb(20),
    cpuid:
      version === 2
        ? null
        : turin
          ? { family: 0x1a, model: 0x02, stepping: 1 }
          : { family: 0x19, model: 0x11, stepping: 1 },
    chipId: pattern(64, 10),
    committedTcb: tcb(30),
    currentVersion: { major: 1, minor: 55, build: 61 },
    committedVersion: { major: 1, minor: 54, build: 3 },
    launchTcb: tcb(40),
    launchMitVector: version === 5 ? 0x0102030405060708n : null,
    currentMitVector: version === 5 ? 0x1112131415161718n : null,
    signature: { rLe: pad72(pattern(48, 11)), sLe: pad72(pattern(48, 12)) },
  };
}

function pad72(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(72);
  out.set(b);
  return out;
}
