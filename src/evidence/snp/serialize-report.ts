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

/** Little-endian writes into the report (pub. 56860 Table 23), each value checked first. */
class ReportWriter {
  readonly out = new Uint8Array(REPORT_SIZE);
  readonly #view = new DataView(this.out.buffer);
  u32(offset: number, v: unknown, name: string): void {
    this.#view.setUint32(offset, checkU32(v, name), true);
  }
  u64(offset: number, v: unknown, name: string): void {
    this.#view.setBigUint64(offset, checkU64(v, name), true);
  }
  bytes(offset: number, v: unknown, length: number, name: string): void {
    if (!isBytes(v) || v.length !== length) throw bad(`${name} must be a Uint8Array of ${length} bytes`);
    this.out.set(v, offset);
  }
  /** BUILD, MINOR, MAJOR at consecutive offsets (Table 23). */
  version(base: number, v: SnpReportFields['currentVersion'], name: string): void {
    this.out[base] = checkU8(v?.build, `${name}.build`);
    this.out[base + 1] = checkU8(v.minor, `${name}.minor`);
    this.out[base + 2] = checkU8(v.major, `${name}.major`);
  }
}

/** VERSION through SIGNER_INFO (0x000..0x04C); returns the version, which decides the layout. */
function writeHeader(w: ReportWriter, fields: SnpReportFields): number {
  const version = checkU32(fields.version, 'version');
  if (!SUPPORTED_REPORT_VERSIONS.includes(version)) throw bad(`unsupported version ${version}`);
  w.u32(OFFSET.VERSION, version, 'version');
  w.u32(OFFSET.GUEST_SVN, fields.guestSvn, 'guestSvn');
  w.u64(OFFSET.POLICY, encodePolicy(fields), 'policy.raw');
  w.bytes(OFFSET.FAMILY_ID, fields.familyId, SIZE.FAMILY_ID, 'familyId');
  w.bytes(OFFSET.IMAGE_ID, fields.imageId, SIZE.IMAGE_ID, 'imageId');
  w.u32(OFFSET.VMPL, fields.vmpl, 'vmpl');
  if (fields.signatureAlgo !== SIGNATURE_ALGO_ECDSA_P384_SHA384) {
    throw bad(`signatureAlgo must be ${SIGNATURE_ALGO_ECDSA_P384_SHA384} (ECDSA P-384 with SHA-384)`);
  }
  w.u32(OFFSET.SIGNATURE_ALGO, fields.signatureAlgo, 'signatureAlgo');
  w.u64(OFFSET.CURRENT_TCB, fields.currentTcb, 'currentTcb');
  w.u64(OFFSET.PLATFORM_INFO, encodePlatformInfo(fields), 'platformInfo.raw');
  w.u32(OFFSET.SIGNER_INFO, encodeSignerInfo(fields), 'signerInfo');
  return version;
}

/** REPORT_DATA through REPORT_ID_MA (0x050..0x180). */
function writeGuestFields(w: ReportWriter, fields: SnpReportFields): void {
  w.bytes(OFFSET.REPORT_DATA, fields.reportData, SIZE.REPORT_DATA, 'reportData');
  w.bytes(OFFSET.MEASUREMENT, fields.measurement, SIZE.MEASUREMENT, 'measurement');
  w.bytes(OFFSET.HOST_DATA, fields.hostData, SIZE.HOST_DATA, 'hostData');
  w.bytes(OFFSET.ID_KEY_DIGEST, fields.idKeyDigest, SIZE.ID_KEY_DIGEST, 'idKeyDigest');
  w.bytes(OFFSET.AUTHOR_KEY_DIGEST, fields.authorKeyDigest, SIZE.AUTHOR_KEY_DIGEST, 'authorKeyDigest');
  w.bytes(OFFSET.REPORT_ID, fields.reportId, SIZE.REPORT_ID, 'reportId');
  w.bytes(OFFSET.REPORT_ID_MA, fields.reportIdMa, SIZE.REPORT_ID_MA, 'reportIdMa');
}

/** REPORTED_TCB through CURRENT_MIT_VECTOR (0x180..0x208): what a version reserves must be null. */
function writePlatformFields(w: ReportWriter, fields: SnpReportFields, version: number): void {
  w.u64(OFFSET.REPORTED_TCB, fields.reportedTcb, 'reportedTcb');
  writeCpuid(w.out, fields, version);
  w.bytes(OFFSET.CHIP_ID, fields.chipId, SIZE.CHIP_ID, 'chipId');
  w.u64(OFFSET.COMMITTED_TCB, fields.committedTcb, 'committedTcb');
  w.version(OFFSET.CURRENT_BUILD, fields.currentVersion, 'currentVersion');
  w.version(OFFSET.COMMITTED_BUILD, fields.committedVersion, 'committedVersion');
  w.u64(OFFSET.LAUNCH_TCB, fields.launchTcb, 'launchTcb');
  if (version >= 5) {
    w.u64(OFFSET.LAUNCH_MIT_VECTOR, fields.launchMitVector, 'launchMitVector');
    w.u64(OFFSET.CURRENT_MIT_VECTOR, fields.currentMitVector, 'currentMitVector');
  } else if (fields.launchMitVector !== null || fields.currentMitVector !== null) {
    throw bad(`launchMitVector and currentMitVector must be null in version ${version}`);
  }
}

export function serializeReport(fields: SnpReportFields): Uint8Array {
  const w = new ReportWriter();
  const version = writeHeader(w, fields);
  writeGuestFields(w, fields);
  writePlatformFields(w, fields, version);
  w.bytes(OFFSET.SIGNATURE_R, fields.signature?.rLe, SIZE.SIGNATURE_COMPONENT, 'signature.rLe');
  w.bytes(OFFSET.SIGNATURE_S, fields.signature.sLe, SIZE.SIGNATURE_COMPONENT, 'signature.sLe');
  // Everything above was checked; this guards the promise that the output always parses.
  try {
    parseReport(w.out);
  } catch (e) {
    if (isSealgateError(e)) throw bad(e.message);
    throw e;
  }
  return w.out;
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
