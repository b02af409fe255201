/**
 * `SnpReport` fields → the 1184 ATTESTATION_REPORT bytes: the exact inverse of `parseReport`
 * (parseReport(serializeReport(f)) deep-equals f plus raw/signedBytes, and every real report
 * round-trips byte-identical). Reserved bytes are written as zero. Used by the simulator: serialize
 * with a zero signature, sign `bytes.subarray(0, 0x2A0)` (WebCrypto ECDSA P-384/SHA-384 gives r||s),
 * set `signature: signatureFromP1363(sig)` and serialize again.
 * Bad fields throw `invalid_argument`; the result always parses.
 */
import { isBytes } from '../../bytes.js';
import { isSealgateError, SealgateError } from '../../errors.js';
import {
  OFFSET,
  REPORT_SIZE,
  SIGNATURE_ALGO_ECDSA_P384_SHA384,
  SIGNING_KEY_NONE,
  SIGNING_KEY_VCEK,
  SIGNING_KEY_VLEK,
  SIZE,
  SUPPORTED_REPORT_VERSIONS,
} from './layout.js';
import { parseReport } from './parse-report.js';
import { decodeGuestPolicy, decodePlatformInfo } from './policy-bits.js';
import type { GuestPolicy, PlatformInfo, SnpReport } from './types.js';

/** Everything `parseReport` returns except the bytes themselves. */
export type SnpReportFields = Omit<SnpReport, 'raw' | 'signedBytes'>;

const U64_MAX = (1n << 64n) - 1n;

function bad(message: string): SealgateError {
  return new SealgateError('invalid_argument', `serializeReport: ${message}`);
}

function checkU32(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw bad(`${name} must be an integer in [0, 2^32)`);
  }
  return v;
}

function checkU8(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xff) {
    throw bad(`${name} must be an integer in [0, 255]`);
  }
  return v;
}

function checkU64(v: unknown, name: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw bad(`${name} must be a bigint in [0, 2^64)`);
  return v;
}

/** Every field of `given` must equal the decoding of `given.raw`, so raw and flags cannot disagree. */
function checkConsistent<T extends { raw: bigint }>(given: T, decoded: T, name: string): void {
  for (const k of Object.keys(decoded) as (keyof T)[]) {
    if (given[k] !== decoded[k]) throw bad(`${name}.${String(k)} disagrees with ${name}.raw`);
  }
}

export function serializeReport(fields: SnpReportFields): Uint8Array {
  const out = new Uint8Array(REPORT_SIZE);
  const view = new DataView(out.buffer);
  const putU32 = (off: number, v: unknown, name: string): void =>
    view.setUint32(off, checkU32(v, name), true);
  const putU64 = (off: number, v: unknown, name: string): void =>
    view.setBigUint64(off, checkU64(v, name), true);
  const putBytes = (off: number, v: unknown, len: number, name: string): void => {
    if (!isBytes(v) || v.length !== len) throw bad(`${name} must be a Uint8Array of ${len} bytes`);
    out.set(v, off);
  };

  const version = checkU32(fields.version, 'version');
  if (!SUPPORTED_REPORT_VERSIONS.includes(version)) throw bad(`unsupported version ${version}`);
  putU32(OFFSET.VERSION, version, 'version');
  putU32(OFFSET.GUEST_SVN, fields.guestSvn, 'guestSvn');

  view.setBigUint64(OFFSET.POLICY, encodePolicy(fields), true);

  putBytes(OFFSET.FAMILY_ID, fields.familyId, SIZE.FAMILY_ID, 'familyId');
  putBytes(OFFSET.IMAGE_ID, fields.imageId, SIZE.IMAGE_ID, 'imageId');
  putU32(OFFSET.VMPL, fields.vmpl, 'vmpl');
  if (fields.signatureAlgo !== SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    throw bad(`signatureAlgo must be ${SIGNATURE_ALGO_ECDSA_P384_SHA384} (ECDSA P-384 with SHA-384)`);
  }
  putU32(OFFSET.SIGNATURE_ALGO, fields.signatureAlgo, 'signatureAlgo');
  putU64(OFFSET.CURRENT_TCB, fields.currentTcb, 'currentTcb');

  view.setBigUint64(OFFSET.PLATFORM_INFO, encodePlatformInfo(fields), true);
  view.setUint32(OFFSET.SIGNER_INFO, encodeSignerInfo(fields), true);

  putBytes(OFFSET.REPORT_DATA, fields.reportData, SIZE.REPORT_DATA, 'reportData');
  putBytes(OFFSET.MEASUREMENT, fields.measurement, SIZE.MEASUREMENT, 'measurement');
  putBytes(OFFSET.HOST_DATA, fields.hostData, SIZE.HOST_DATA, 'hostData');
  putBytes(OFFSET.ID_KEY_DIGEST, fields.idKeyDigest, SIZE.ID_KEY_DIGEST, 'idKeyDigest');
  putBytes(OFFSET.AUTHOR_KEY_DIGEST, fields.authorKeyDigest, SIZE.AUTHOR_KEY_DIGEST, 'authorKeyDigest');
  putBytes(OFFSET.REPORT_ID, fields.reportId, SIZE.REPORT_ID, 'reportId');
  putBytes(OFFSET.REPORT_ID_MA, fields.reportIdMa, SIZE.REPORT_ID_MA, 'reportIdMa');
  putU64(OFFSET.REPORTED_TCB, fields.reportedTcb, 'reportedTcb');

  writeCpuid(out, fields, version);

  putBytes(OFFSET.CHIP_ID, fields.chipId, SIZE.CHIP_ID, 'chipId');
  putU64(OFFSET.COMMITTED_TCB, fields.committedTcb, 'committedTcb');
  for (const [name, v, base] of [
    ['currentVersion', fields.currentVersion, OFFSET.CURRENT_BUILD],
    ['committedVersion', fields.committedVersion, OFFSET.COMMITTED_BUILD],
  ] as const) {
    // BUILD, MINOR, MAJOR at consecutive offsets (Table 23).
    out[base] = checkU8(v?.build, `${name}.build`);
    out[base + 1] = checkU8(v.minor, `${name}.minor`);
    out[base + 2] = checkU8(v.major, `${name}.major`);
  }
  putU64(OFFSET.LAUNCH_TCB, fields.launchTcb, 'launchTcb');

  if (version >= 5) {
    putU64(OFFSET.LAUNCH_MIT_VECTOR, fields.launchMitVector, 'launchMitVector');
    putU64(OFFSET.CURRENT_MIT_VECTOR, fields.currentMitVector, 'currentMitVector');
  } else if (fields.launchMitVector !== null || fields.currentMitVector !== null) {
    throw bad(`launchMitVector and currentMitVector must be null in version ${version}`);
  }

  putBytes(OFFSET.SIGNATURE_R, fields.signature?.rLe, SIZE.SIGNATURE_COMPONENT, 'signature.rLe');
  putBytes(OFFSET.SIGNATURE_S, fields.signature.sLe, SIZE.SIGNATURE_COMPONENT, 'signature.sLe');

  // Everything above was checked; this guards the promise that the output always parses.
  try {
    parseReport(out);
  } catch (e) {
    if (isSealgateError(e)) throw bad(e.message);
    throw e;
  }
  return out;
}

/** GUEST_POLICY (0x008): `raw` decodes (Table 9) and agrees with the decoded members given. */
function encodePolicy(fields: SnpReportFields): bigint {
  const policyRaw = checkU64(fields.policy?.raw, 'policy.raw');
  let policy: GuestPolicy;
  try {
    policy = decodeGuestPolicy(policyRaw);
  } catch (e) {
    if (isSealgateError(e)) throw bad(`policy.raw: ${e.message}`);
    throw e;
  }
  checkConsistent(fields.policy, policy, 'policy');
  return policyRaw;
}

/** PLATFORM_INFO (0x040): `raw` agrees with the decoded members given. */
function encodePlatformInfo(fields: SnpReportFields): bigint {
  const platformRaw = checkU64(fields.platformInfo?.raw, 'platformInfo.raw');
  const platform: PlatformInfo = decodePlatformInfo(platformRaw);
  checkConsistent(fields.platformInfo, platform, 'platformInfo');
  return platformRaw;
}

/** The signer info (0x048): AUTHOR_KEY_EN bit 0, MASK_CHIP_KEY bit 1, SIGNING_KEY bits 4:2. */
function encodeSignerInfo(fields: SnpReportFields): number {
  const keyCode =
    fields.signingKey === 'vcek'
      ? SIGNING_KEY_VCEK
      : fields.signingKey === 'vlek'
        ? SIGNING_KEY_VLEK
        : fields.signingKey === 'none'
          ? SIGNING_KEY_NONE
          : -1;
  if (keyCode < 0) throw bad('signingKey must be "vcek", "vlek" or "none"');
  if (typeof fields.authorKeyEn !== 'boolean') throw bad('authorKeyEn must be a boolean');
  if (typeof fields.maskChipKey !== 'boolean') throw bad('maskChipKey must be a boolean');
  return (fields.authorKeyEn ? 1 : 0) | (fields.maskChipKey ? 2 : 0) | (keyCode << 2);
}

/** CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (0x188–0x18A): required from version 3, reserved before. */
function writeCpuid(out: Uint8Array, fields: SnpReportFields, version: number): void {
  if (version >= 3) {
    if (fields.cpuid === null || typeof fields.cpuid !== 'object') {
      throw bad(`cpuid is required in version ${version}`);
    }
    out[OFFSET.CPUID_FAM_ID] = checkU8(fields.cpuid.family, 'cpuid.family');
    out[OFFSET.CPUID_MOD_ID] = checkU8(fields.cpuid.model, 'cpuid.model');
    out[OFFSET.CPUID_STEP] = checkU8(fields.cpuid.stepping, 'cpuid.stepping');
  } else if (fields.cpuid !== null) {
    throw bad('cpuid must be null in version 2 (bytes 0x188..0x18A are reserved)');
  }
}
