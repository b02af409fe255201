/**
 * `SnpClaims` for the policy tests. Two sources:
 * - `claimsFromVector(set)`: a real report from ../shared/testdata parsed by stage 1
 *   (`parseReport`, `decodeTcb`), as stage 2 would hand it over after verifying it;
 * - `syntheticClaims()`: a hand-built, clean Milan report that the reference values of
 *   `matchingReference()` accept with no violation, so each rule test changes one thing.
 */
import { isAllZero, toHex } from '../../src/bytes.js';
import { parseReport } from '../../src/evidence/snp/parse-report.js';
import { decodeTcb } from '../../src/evidence/snp/tcb.js';
import type { SnpClaims, SnpProduct, SnpReport, TcbVersion } from '../../src/evidence/snp/types.js';
import type { SnpReferenceValues, SnpTcbMinimum } from '../../src/policy/manifest-types.js';
import { AMD_ARK_SHA256 } from '../../src/policy/trust-anchors.js';
import type { Vectors } from '../support/vectors.js';

/** The product of each real set (v2 reports carry no CPUID; SOURCES.md names the product). */
export const VECTOR_PRODUCT: Record<string, SnpProduct> = {
  'milan-v2-gosevguest': 'Milan',
  'milan-v2-virtee': 'Milan',
  'milan-v2-idblock-trustee': 'Milan',
  'milan-v3-vlek-aws-trustee': 'Milan',
  'genoa-v3-azure-trustee': 'Genoa',
  'turin-v5-oak': 'Turin',
};

export function claimsFromVector(v: Vectors, set: string): SnpClaims {
  const product = VECTOR_PRODUCT[set];
  if (!product) throw new Error(`no product known for ${set}`);
  return claimsFromReport(parseReport(v.bytes(`snp/${set}/report.bin`)), product);
}

export function claimsFromReport(report: SnpReport, product: SnpProduct): SnpClaims {
  if (report.signingKey === 'none') throw new Error('fixture: an unsigned report has no claims');
  return {
    report,
    product,
    signingKey: report.signingKey,
    reportedTcb: decodeTcb(report.reportedTcb, product),
    currentTcb: decodeTcb(report.currentTcb, product),
    committedTcb: decodeTcb(report.committedTcb, product),
    launchTcb: decodeTcb(report.launchTcb, product),
    leaf: {
      subject: report.signingKey === 'vcek' ? 'CN=SEV-VCEK' : 'CN=SEV-VLEK',
      notBefore: new Date('2022-01-01T00:00:00Z'),
      notAfter: new Date('2032-01-01T00:00:00Z'),
      sha256: '00'.repeat(32),
      extensions: {
        structVersion: product === 'Turin' ? 1 : 0,
        productName: product,
        tcb: decodeTcb(report.reportedTcb, product),
        hwId: report.signingKey === 'vcek' ? report.chipId.slice(0, product === 'Turin' ? 8 : 64) : null,
        cspId: null,
      },
    },
    chain: { intermediateSha256: '11'.repeat(32), rootSha256: AMD_ARK_SHA256[product] },
  };
}

/** Reference values that accept exactly `claims` (every optional rule set to the claims' value). */
export function matchingReference(claims: SnpClaims): SnpReferenceValues {
  const r = claims.report;
  // As `manifest pin`: each component the lowest of REPORTED, CURRENT and COMMITTED.
  const min: SnpTcbMinimum = { ...claims.reportedTcb };
  for (const t of [claims.currentTcb, claims.committedTcb]) {
    for (const k of ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const) {
      if (min[k] !== undefined && t[k] !== undefined) min[k] = Math.min(min[k]!, t[k]!);
    }
  }
  const launch: SnpTcbMinimum = { ...claims.launchTcb };
  return {
    measurements: [toHex(r.measurement)],
    signingKeys: [claims.signingKey],
    policy: {
      allowDebug: r.policy.debug,
      allowMigrationAgent: r.policy.migrateMa,
      allowSmt: r.policy.smt,
      requireSingleSocket: r.policy.singleSocket,
      minAbi: { major: r.policy.abiMajor, minor: r.policy.abiMinor },
    },
    minimumTcb: { [claims.product]: min },
    minimumLaunchTcb: { [claims.product]: launch },
    vmpl: r.vmpl,
    hostData: toHex(r.hostData),
    // Zero means "absent" (no ID block, masked CHIP_ID); a manifest cannot list zero.
    ...(isAllZero(r.idKeyDigest) ? {} : { idKeyDigests: [toHex(r.idKeyDigest)] }),
    ...(isAllZero(r.chipId) ? {} : { chipIds: [toHex(r.chipId)] }),
    minimumGuestSvn: r.guestSvn,
    ...(r.committedTcb !== r.currentTcb ? { allowProvisionalFirmware: true } : {}),
    familyId: toHex(r.familyId),
    imageId: toHex(r.imageId),
  };
}

const fill = (length: number, byte: number): Uint8Array => new Uint8Array(length).fill(byte);

/** A clean Milan report: VCEK, VMPL 0, no DEBUG/SMT/MA, an ID block signed with an author key. */
export function syntheticClaims(product: SnpProduct = 'Milan'): SnpClaims {
  const tcb: TcbVersion =
    product === 'Turin'
      ? { fmc: 3, bootloader: 4, tee: 5, snp: 6, microcode: 70 }
      : { bootloader: 4, tee: 5, snp: 6, microcode: 70 };
  const report: SnpReport = {
    raw: new Uint8Array(1184),
    signedBytes: new Uint8Array(0x2a0),
    version: product === 'Turin' ? 5 : 3,
    guestSvn: 7,
    policy: {
      raw: 0x20000n | (1n << 8n) | 2n,
      abiMinor: 2,
      abiMajor: 1,
      smt: false,
      migrateMa: false,
      debug: false,
      singleSocket: false,
      cxlAllow: false,
      memAes256Xts: false,
      raplDis: false,
      ciphertextHiding: false,
      pageSwapDisable: false,
    },
    familyId: fill(16, 0xf1),
    imageId: fill(16, 0x1d),
    vmpl: 0,
    signatureAlgo: 1,
    currentTcb: 0n,
    platformInfo: {
      raw: 0n,
      smtEnabled: false,
      tsmeEnabled: false,
      eccEnabled: false,
      raplDisabled: false,
      ciphertextHidingEnabled: false,
      aliasCheckComplete: false,
      tioEnabled: false,
    },
    authorKeyEn: true,
    maskChipKey: false,
    signingKey: 'vcek',
    reportData: fill(64, 0xda),
    measurement: fill(48, 0x3e),
    hostData: fill(32, 0x40),
    idKeyDigest: fill(48, 0x1e),
    authorKeyDigest: fill(48, 0xa0),
    reportId: fill(32, 0x01),
    reportIdMa: fill(32, 0xff),
    reportedTcb: 0n,
    cpuid: null,
    chipId: fill(64, 0xc1),
    committedTcb: 0n,
    currentVersion: { major: 1, minor: 55, build: 1 },
    committedVersion: { major: 1, minor: 55, build: 1 },
    launchTcb: 0n,
    launchMitVector: null,
    currentMitVector: null,
    signature: { rLe: new Uint8Array(72), sLe: new Uint8Array(72) },
  };
  return {
    report,
    product,
    signingKey: 'vcek',
    reportedTcb: { ...tcb },
    currentTcb: { ...tcb },
    committedTcb: { ...tcb },
    launchTcb: { ...tcb },
    leaf: {
      subject: 'CN=SEV-VCEK',
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2031-01-01T00:00:00Z'),
      sha256: '22'.repeat(32),
      extensions: {
        structVersion: 0,
        productName: product,
        tcb: { ...tcb },
        hwId: fill(64, 0xc1),
        cspId: null,
      },
    },
    chain: { intermediateSha256: '33'.repeat(32), rootSha256: AMD_ARK_SHA256[product] },
  };
}

/** `matchingReference(syntheticClaims())` plus the author-key rule, which the synthetic report meets. */
export function syntheticReference(claims: SnpClaims = syntheticClaims()): SnpReferenceValues {
  return {
    ...matchingReference(claims),
    authorKeyDigests: [toHex(claims.report.authorKeyDigest)],
  };
}
