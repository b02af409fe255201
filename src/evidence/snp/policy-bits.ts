/**
 * Bit fields of GUEST_POLICY (report 0x08; ABI spec pub. 56860 Table 9 "Guest Policy Structure") and
 * PLATFORM_INFO (report 0x40; Table 24). Decoding is structural only: DEBUG=1 or SMT=1 decode fine,
 * whether they are acceptable is the policy evaluator's question.
 */
import { SealgateError } from '../../errors.js';
import type { GuestPolicy, PlatformInfo } from './types.js';

const U64_MAX = (1n << 64n) - 1n;

// Table 9 bit positions.
const POLICY_BIT = {
  smt: 16n,
  reservedMustBeOne: 17n,
  migrateMa: 18n,
  debug: 19n,
  singleSocket: 20n,
  cxlAllow: 21n,
  memAes256Xts: 22n,
  raplDis: 23n,
  ciphertextHiding: 24n,
  pageSwapDisable: 25n,
} as const;
/** Bits 63:26 are reserved, must be zero (Table 9). */
const POLICY_RESERVED_MASK = U64_MAX & ~((1n << 26n) - 1n);

// Table 24 bit positions. Bit 6 is reserved but NOT rejected: real Turin firmware 1.55.61 sets it
// (turin-v5-oak, PLATFORM_INFO 0x67). PLATFORM_INFO describes the host, it is not an MBZ field.
const PLATFORM_BIT = {
  smtEnabled: 0n,
  tsmeEnabled: 1n,
  eccEnabled: 2n,
  raplDisabled: 3n,
  ciphertextHidingEnabled: 4n,
  aliasCheckComplete: 5n,
  tioEnabled: 7n,
} as const;

const bit = (raw: bigint, n: bigint): boolean => ((raw >> n) & 1n) === 1n;

function checkU64(raw: bigint, what: string): void {
  if (typeof raw !== 'bigint' || raw < 0n || raw > U64_MAX) {
    throw new SealgateError('invalid_argument', `${what}: expected a bigint in [0, 2^64)`);
  }
}

/**
 * GUEST_POLICY → fields. Throws `malformed_evidence` when bit 17 is zero or a reserved bit 63:26 is
 * set: firmware refuses such a policy at SNP_LAUNCH_START, so no genuine report carries one.
 */
export function decodeGuestPolicy(raw: bigint): GuestPolicy {
  checkU64(raw, 'guest policy');
  if (!bit(raw, POLICY_BIT.reservedMustBeOne)) {
    throw new SealgateError(
      'malformed_evidence',
      `SNP report: guest policy bit 17 must be one, got policy 0x${raw.toString(16)}`,
      { field: 'policy', offset: 0x08, actual: raw },
    );
  }
  if ((raw & POLICY_RESERVED_MASK) !== 0n) {
    throw new SealgateError(
      'malformed_evidence',
      `SNP report: guest policy reserved bits 63:26 must be zero, got policy 0x${raw.toString(16)}`,
      { field: 'policy', offset: 0x08, actual: raw },
    );
  }
  return {
    raw,
    abiMinor: Number(raw & 0xffn),
    abiMajor: Number((raw >> 8n) & 0xffn),
    smt: bit(raw, POLICY_BIT.smt),
    migrateMa: bit(raw, POLICY_BIT.migrateMa),
    debug: bit(raw, POLICY_BIT.debug),
    singleSocket: bit(raw, POLICY_BIT.singleSocket),
    cxlAllow: bit(raw, POLICY_BIT.cxlAllow),
    memAes256Xts: bit(raw, POLICY_BIT.memAes256Xts),
    raplDis: bit(raw, POLICY_BIT.raplDis),
    ciphertextHiding: bit(raw, POLICY_BIT.ciphertextHiding),
    pageSwapDisable: bit(raw, POLICY_BIT.pageSwapDisable),
  };
}

/** Fields → GUEST_POLICY, with bit 17 set as Table 9 requires. */
export function encodeGuestPolicy(fields: Omit<GuestPolicy, 'raw'>): bigint {
  for (const k of ['abiMinor', 'abiMajor'] as const) {
    const v = fields[k];
    if (!Number.isInteger(v) || v < 0 || v > 255) {
      throw new SealgateError('invalid_argument', `guest policy: ${k} must be an integer in [0, 255]`);
    }
  }
  let raw = BigInt(fields.abiMinor) | (BigInt(fields.abiMajor) << 8n) | (1n << POLICY_BIT.reservedMustBeOne);
  const flags = [
    'smt',
    'migrateMa',
    'debug',
    'singleSocket',
    'cxlAllow',
    'memAes256Xts',
    'raplDis',
    'ciphertextHiding',
    'pageSwapDisable',
  ] as const;
  for (const k of flags) if (fields[k]) raw |= 1n << POLICY_BIT[k];
  return raw;
}

/** PLATFORM_INFO → fields. Never throws on reserved bits (see PLATFORM_BIT); `raw` keeps them. */
export function decodePlatformInfo(raw: bigint): PlatformInfo {
  checkU64(raw, 'platform info');
  return {
    raw,
    smtEnabled: bit(raw, PLATFORM_BIT.smtEnabled),
    tsmeEnabled: bit(raw, PLATFORM_BIT.tsmeEnabled),
    eccEnabled: bit(raw, PLATFORM_BIT.eccEnabled),
    raplDisabled: bit(raw, PLATFORM_BIT.raplDisabled),
    ciphertextHidingEnabled: bit(raw, PLATFORM_BIT.ciphertextHidingEnabled),
    aliasCheckComplete: bit(raw, PLATFORM_BIT.aliasCheckComplete),
    tioEnabled: bit(raw, PLATFORM_BIT.tioEnabled),
  };
}

/** Fields → PLATFORM_INFO (defined bits only). */
export function encodePlatformInfo(fields: Omit<PlatformInfo, 'raw'>): bigint {
  let raw = 0n;
  for (const k of Object.keys(PLATFORM_BIT) as (keyof typeof PLATFORM_BIT)[]) {
    if (fields[k]) raw |= 1n << PLATFORM_BIT[k];
  }
  return raw;
}
