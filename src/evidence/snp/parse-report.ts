/**
 * Stage 1 of parse → verify → evaluate: 1184 bytes → `SnpReport`, structure only (after
 * go-sev-guest's `abi.ReportToProto`). Throws `SealgateError('malformed_evidence')` with an exact
 * message for bytes that are not a report: wrong size, unknown version, non-zero reserved bytes,
 * reserved SIGNING_KEY values, an undefined signature algorithm, guest policy bit 17 clear or a
 * reserved policy bit set. Everything a genuine report can carry parses — DEBUG=1, VMPL 3, a masked
 * CHIP_ID, an unsigned report (SIGNING_KEY none) — and is judged later by verification or policy.
 * TCBs stay raw: their layout depends on the product (see tcb.ts).
 */
import { isBytes } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import {
  hex,
  OFFSET,
  REPORT_SIZE,
  reservedRanges,
  SIGNATURE_ALGO_ECDSA_P384_SHA384,
  SIGNED_REGION_END,
  SIGNING_KEY_NONE,
  SIGNING_KEY_VCEK,
  SIGNING_KEY_VLEK,
  SIZE,
  SUPPORTED_REPORT_VERSIONS,
} from './layout.js';
import { decodeGuestPolicy, decodePlatformInfo } from './policy-bits.js';
import type { FirmwareVersion, SnpReport, SnpSigningKey } from './types.js';

function malformed(message: string, detail: Record<string, unknown>): SealgateError {
  return new SealgateError('malformed_evidence', `SNP report: ${message}`, detail);
}

/** Little-endian reads from the report (pub. 56860 Table 23: all integers little-endian). */
class ReportReader {
  readonly #view: DataView;
  constructor(readonly raw: Uint8Array) {
    this.#view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  }
  u32(offset: number): number {
    return this.#view.getUint32(offset, true);
  }
  u64(offset: number): bigint {
    return this.#view.getBigUint64(offset, true);
  }
  bytes(offset: number, length: number): Uint8Array {
    return this.raw.slice(offset, offset + length);
  }
  /** A firmware version from its three bytes (CURRENT_* at 0x1E8, COMMITTED_* at 0x1EC). */
  version(build: number, minor: number, major: number): FirmwareVersion {
    return { major: this.raw[major]!, minor: this.raw[minor]!, build: this.raw[build]! };
  }
}

/** The report is exactly 0x4A0 bytes long (every version so far). */
function checkSize(bytes: Uint8Array): void {
  if (bytes.length === REPORT_SIZE) return;
  throw malformed(`expected ${REPORT_SIZE} bytes, got ${bytes.length}`, {
    field: 'size',
    expected: REPORT_SIZE,
    actual: bytes.length,
  });
}

/** REPORT_DATA through REPORT_ID_MA (0x050..0x180): what the guest and its launch put in. */
function guestFields(
  r: ReportReader,
): Pick<
  SnpReport,
  'reportData' | 'measurement' | 'hostData' | 'idKeyDigest' | 'authorKeyDigest' | 'reportId' | 'reportIdMa'
> {
  return {
    reportData: r.bytes(OFFSET.REPORT_DATA, SIZE.REPORT_DATA),
    measurement: r.bytes(OFFSET.MEASUREMENT, SIZE.MEASUREMENT),
    hostData: r.bytes(OFFSET.HOST_DATA, SIZE.HOST_DATA),
    idKeyDigest: r.bytes(OFFSET.ID_KEY_DIGEST, SIZE.ID_KEY_DIGEST),
    authorKeyDigest: r.bytes(OFFSET.AUTHOR_KEY_DIGEST, SIZE.AUTHOR_KEY_DIGEST),
    reportId: r.bytes(OFFSET.REPORT_ID, SIZE.REPORT_ID),
    reportIdMa: r.bytes(OFFSET.REPORT_ID_MA, SIZE.REPORT_ID_MA),
  };
}

/**
 * REPORTED_TCB through CURRENT_MIT_VECTOR (0x180..0x208): the platform's TCBs, CPUID (v3 on) and
 * firmware versions, mitigation vectors (v5 on); fields a version reserves are null.
 */
type PlatformFields = Pick<
  SnpReport,
  | 'reportedTcb'
  | 'cpuid'
  | 'chipId'
  | 'committedTcb'
  | 'currentVersion'
  | 'committedVersion'
  | 'launchTcb'
  | 'launchMitVector'
  | 'currentMitVector'
>;

function platformFields(r: ReportReader, version: number): PlatformFields {
  const raw = r.raw;
  return {
    reportedTcb: r.u64(OFFSET.REPORTED_TCB),
    cpuid:
      version >= 3
        ? {
            family: raw[OFFSET.CPUID_FAM_ID]!,
            model: raw[OFFSET.CPUID_MOD_ID]!,
            stepping: raw[OFFSET.CPUID_STEP]!,
          }
        : null,
    chipId: r.bytes(OFFSET.CHIP_ID, SIZE.CHIP_ID),
    committedTcb: r.u64(OFFSET.COMMITTED_TCB),
    currentVersion: r.version(OFFSET.CURRENT_BUILD, OFFSET.CURRENT_MINOR, OFFSET.CURRENT_MAJOR),
    committedVersion: r.version(OFFSET.COMMITTED_BUILD, OFFSET.COMMITTED_MINOR, OFFSET.COMMITTED_MAJOR),
    launchTcb: r.u64(OFFSET.LAUNCH_TCB),
    launchMitVector: version >= 5 ? r.u64(OFFSET.LAUNCH_MIT_VECTOR) : null,
    currentMitVector: version >= 5 ? r.u64(OFFSET.CURRENT_MIT_VECTOR) : null,
  };
}

/** Checks first (size, version, reserved bytes, algorithm, signer info, policy), then the fields. */
export function parseReport(bytes: Uint8Array): SnpReport {
  if (!isBytes(bytes)) {
    throw new SealgateError('invalid_argument', 'SNP report: expected a Uint8Array');
  }
  checkSize(bytes);
  // Work on our own copy from here on: the caller's buffer may change under us, and everything
  // returned must be independent of it.
  const raw = bytes.slice();
  const r = new ReportReader(raw);
  const version = checkVersion(r.u32(OFFSET.VERSION));
  checkReserved(raw, version);
  const signatureAlgo = checkSignatureAlgo(r.u32(OFFSET.SIGNATURE_ALGO));
  const signerInfo = r.u32(OFFSET.SIGNER_INFO);
  const signingKey = decodeSigningKey(signerInfo);
  // Throws malformed_evidence for bit 17 clear or reserved bits 63:26 set.
  const policy = decodeGuestPolicy(r.u64(OFFSET.POLICY));
  return {
    raw,
    signedBytes: raw.slice(0, SIGNED_REGION_END),
    version,
    guestSvn: r.u32(OFFSET.GUEST_SVN),
    policy,
    familyId: r.bytes(OFFSET.FAMILY_ID, SIZE.FAMILY_ID),
    imageId: r.bytes(OFFSET.IMAGE_ID, SIZE.IMAGE_ID),
    vmpl: r.u32(OFFSET.VMPL),
    signatureAlgo,
    currentTcb: r.u64(OFFSET.CURRENT_TCB),
    platformInfo: decodePlatformInfo(r.u64(OFFSET.PLATFORM_INFO)),
    authorKeyEn: (signerInfo & 1) === 1,
    maskChipKey: (signerInfo & 2) === 2,
    signingKey,
    ...guestFields(r),
    ...platformFields(r, version),
    signature: {
      rLe: r.bytes(OFFSET.SIGNATURE_R, SIZE.SIGNATURE_COMPONENT),
      sLe: r.bytes(OFFSET.SIGNATURE_S, SIZE.SIGNATURE_COMPONENT),
    },
  };
}

/** VERSION (0x000): one this parser knows the layout of. */
function checkVersion(version: number): number {
  if (SUPPORTED_REPORT_VERSIONS.includes(version)) return version;
  throw malformed(`unsupported version ${version} (supported: ${SUPPORTED_REPORT_VERSIONS.join(', ')})`, {
    field: 'version',
    offset: OFFSET.VERSION,
    actual: version,
  });
}

/** Every byte reserved in this version is zero. */
function checkReserved(raw: Uint8Array, version: number): void {
  for (const r of reservedRanges(version)) {
    for (let i = r.start; i < r.end; i++) {
      if (raw[i] !== 0) {
        throw malformed(
          `byte ${hex(i)} must be zero in version ${version} (reserved [${hex(r.start)}, ${hex(r.end)}): ${r.name}), got 0x${raw[i]!.toString(16).padStart(2, '0')}`,
          { field: 'reserved', offset: i, range: [r.start, r.end], version },
        );
      }
    }
  }
}

/**
 * SIGNATURE_ALGO (0x034): the SIGNATURE block's format (and so which of its bytes are reserved) is
 * defined per algorithm, and ECDSA P-384 with SHA-384 is the only one the ABI spec defines.
 */
function checkSignatureAlgo(signatureAlgo: number): number {
  if (signatureAlgo === SIGNATURE_ALGO_ECDSA_P384_SHA384) return signatureAlgo;
  throw malformed(`unsupported signature algorithm ${signatureAlgo} (1 = ECDSA P-384 with SHA-384)`, {
    field: 'signatureAlgo',
    offset: OFFSET.SIGNATURE_ALGO,
    actual: signatureAlgo,
  });
}

/** SIGNING_KEY, bits 4:2 of the signer info (0x048); bits 31:5 are reserved. */
function decodeSigningKey(signerInfo: number): SnpSigningKey {
  if (signerInfo >>> 5 !== 0) {
    throw malformed(
      `signer info reserved bits 31:5 must be zero, got 0x${signerInfo.toString(16).padStart(8, '0')}`,
      { field: 'signerInfo', offset: OFFSET.SIGNER_INFO, actual: signerInfo },
    );
  }
  const signingKeyCode = (signerInfo >>> 2) & 7;
  if (signingKeyCode === SIGNING_KEY_VCEK) return 'vcek';
  if (signingKeyCode === SIGNING_KEY_VLEK) return 'vlek';
  if (signingKeyCode === SIGNING_KEY_NONE) return 'none';
  throw malformed(`SIGNING_KEY ${signingKeyCode} is reserved (0 = VCEK, 1 = VLEK, 7 = none)`, {
    field: 'signingKey',
    offset: OFFSET.SIGNER_INFO,
    actual: signingKeyCode,
  });
}
