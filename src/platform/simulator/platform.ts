/**
 * A simulated SEV-SNP guest: answers `getReport(reportData)` with a signed 1184-byte
 * ATTESTATION_REPORT (ABI spec pub. 56860 Table 23) and the VCEK/ASK/ARK as an extended report
 * carries them — the shape the configfs-tsm provider for real hardware returns. The launch
 * configuration plays the role of the hypervisor's SNP_LAUNCH_* inputs; the firmware-owned fields
 * (REPORT_ID, TCBs, CHIP_ID, CPUID, PLATFORM_INFO) are filled the way real firmware fills them.
 */
import { isAllZero } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import {
  decodeGuestPolicy,
  decodePlatformInfo,
  encodeGuestPolicy,
  encodePlatformInfo,
} from '../../evidence/snp/policy-bits.js';
import { serializeReport } from '../../evidence/snp/serialize-report.js';
import { encodeTcb } from '../../evidence/snp/tcb.js';
import type {
  FirmwareVersion,
  GuestPolicy,
  PlatformInfo,
  SnpProduct,
  TcbVersion,
} from '../../evidence/snp/types.js';
import { PRODUCT_SHAPES } from './amd-shapes.js';
import { checkTcb, type DevChain, type SnpCertificates } from './dev-chain.js';
import { signReport, type UnsignedReportFields } from './sign-report.js';

export type SimulatedReportVersion = 2 | 3 | 5;

export interface SimulatedLaunchConfig {
  /** The launch digest, 48 bytes (see `measurementFor`). */
  measurement: Uint8Array;
  /** Guest policy flags (Table 9). Default: ABI 0.0, SMT allowed, everything else off; bit 17 is always set. */
  policy?: Partial<Omit<GuestPolicy, 'raw'>>;
  /** VMPL the report is requested from, 0..3 (default 0); `getReport` may override it. */
  vmpl?: number;
  hostData?: Uint8Array; // 32, default zero
  idKeyDigest?: Uint8Array; // 48, default zero (no ID block)
  /** 48, default zero; non-zero sets AUTHOR_KEY_EN as firmware does when the ID block has an author key. */
  authorKeyDigest?: Uint8Array;
  familyId?: Uint8Array; // 16, default zero
  imageId?: Uint8Array; // 16, default zero
  guestSvn?: number; // u32, default 0
  /** REPORTED_TCB; default the chain's TCB (what the VCEK was issued for). */
  tcb?: TcbVersion;
  /** CURRENT_TCB, COMMITTED_TCB, LAUNCH_TCB; each defaults to `tcb`. */
  currentTcb?: TcbVersion;
  committedTcb?: TcbVersion;
  launchTcb?: TcbVersion;
  /** Report format; default 3, or 5 on Turin (what current firmware writes). */
  version?: SimulatedReportVersion;
  /** 64 bytes. Default: a VCEK's hwID (Turin: the 8-byte hwID then zeros); zero under a VLEK, as AWS's reports. */
  chipId?: Uint8Array;
  /** PLATFORM_INFO flags (Table 24). Default: SMT, TSME, ECC enabled, alias check complete (0x27, as AWS's Milan). */
  platformInfo?: Partial<Omit<PlatformInfo, 'raw'>>;
  /** Firmware version in CURRENT/COMMITTED_VERSION. Default 1.55.0. */
  firmware?: FirmwareVersion;
}

/** What a platform hands the guest: the report and the certificates an extended report carries. */
export interface PlatformEvidence {
  report: Uint8Array;
  certificates: SnpCertificates;
}

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', `simulated platform: ${message}`);
};

function bytesOf(v: Uint8Array | undefined, len: number, name: string): Uint8Array {
  if (v === undefined) return new Uint8Array(len);
  if (!(v instanceof Uint8Array) || v.length !== len) fail(`${name} must be a Uint8Array of ${len} bytes`);
  return v.slice();
}

function checkVmpl(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 3)
    fail(`vmpl must be an integer 0..3, got ${v}`);
  return v as number;
}

const DEFAULT_PLATFORM_INFO: Omit<PlatformInfo, 'raw'> = {
  smtEnabled: true,
  tsmeEnabled: true,
  eccEnabled: true,
  raplDisabled: false,
  ciphertextHidingEnabled: false,
  aliasCheckComplete: true,
  tioEnabled: false,
};

const DEFAULT_POLICY: Omit<GuestPolicy, 'raw'> = {
  abiMinor: 0,
  abiMajor: 0,
  smt: true,
  migrateMa: false,
  debug: false,
  singleSocket: false,
  cxlAllow: false,
  memAes256Xts: false,
  raplDis: false,
  ciphertextHiding: false,
  pageSwapDisable: false,
};

export class SimulatedSnpPlatform {
  readonly simulated = true as const;
  readonly product: SnpProduct;
  /** Everything of the report except REPORT_DATA, REPORT_ID, VMPL and the signature, fixed at launch. */
  readonly #launch: Omit<UnsignedReportFields, 'reportData' | 'reportId' | 'vmpl'>;
  readonly #vmpl: number;
  readonly #chain: DevChain;

  constructor(chain: DevChain, config: SimulatedLaunchConfig) {
    if (chain?.simulated !== true || !(chain.certificates?.vcek instanceof Uint8Array))
      fail('expected a DevChain');
    if (typeof config !== 'object' || config === null) fail('expected a launch configuration');
    const product = chain.product;
    const shape = PRODUCT_SHAPES[product];
    const version = config.version ?? shape.reportVersion;
    if (version !== 2 && version !== 3 && version !== 5) fail(`version must be 2, 3 or 5, got ${version}`);
    const tcb = checkTcb(config.tcb ?? chain.tcb, product, 'tcb');
    const tcbOf = (t: TcbVersion | undefined, name: string) =>
      encodeTcb(checkTcb(t ?? tcb, product, name), product);
    const policy = encodeGuestPolicy({ ...DEFAULT_POLICY, ...config.policy });
    const platformInfo = encodePlatformInfo({ ...DEFAULT_PLATFORM_INFO, ...config.platformInfo });
    // Table 9, SMT: with the bit clear, SNP_LAUNCH_START fails on a host that has SMT enabled.
    if (!decodeGuestPolicy(policy).smt && decodePlatformInfo(platformInfo).smtEnabled) {
      fail('policy.smt is false but platformInfo.smtEnabled is true: firmware refuses that launch');
    }
    const authorKeyDigest = bytesOf(config.authorKeyDigest, 48, 'authorKeyDigest');
    const guestSvn = config.guestSvn ?? 0;
    if (!Number.isInteger(guestSvn) || guestSvn < 0 || guestSvn > 0xffffffff) fail('guestSvn must be a u32');
    const firmware = config.firmware ?? { major: 1, minor: 55, build: 0 };
    let chipId: Uint8Array;
    if (config.chipId !== undefined) chipId = bytesOf(config.chipId, 64, 'chipId');
    else {
      chipId = new Uint8Array(64);
      if (chain.hwId) chipId.set(chain.hwId);
    }
    this.product = product;
    this.#chain = chain;
    this.#vmpl = checkVmpl(config.vmpl ?? 0);
    this.#launch = {
      version,
      guestSvn,
      policy: decodeGuestPolicy(policy),
      familyId: bytesOf(config.familyId, 16, 'familyId'),
      imageId: bytesOf(config.imageId, 16, 'imageId'),
      signatureAlgo: 1, // ECDSA P-384 with SHA-384, the only defined encoding
      currentTcb: tcbOf(config.currentTcb, 'currentTcb'),
      platformInfo: decodePlatformInfo(platformInfo),
      authorKeyEn: !isAllZero(authorKeyDigest),
      maskChipKey: false,
      signingKey: chain.signingKey,
      measurement: bytesOf(config.measurement ?? fail('measurement is required'), 48, 'measurement'),
      hostData: bytesOf(config.hostData, 32, 'hostData'),
      idKeyDigest: bytesOf(config.idKeyDigest, 48, 'idKeyDigest'),
      authorKeyDigest,
      // No migration agent is bound: firmware writes all ones (as in every real vector).
      reportIdMa: new Uint8Array(32).fill(0xff),
      reportedTcb: encodeTcb(tcb, product),
      cpuid: version >= 3 ? { ...shape.cpuid } : null,
      chipId,
      committedTcb: tcbOf(config.committedTcb, 'committedTcb'),
      currentVersion: { ...firmware },
      committedVersion: { ...firmware },
      launchTcb: tcbOf(config.launchTcb, 'launchTcb'),
      launchMitVector: version >= 5 ? 0n : null,
      currentMitVector: version >= 5 ? 0n : null,
    };
    // Whatever serializeReport would refuse (a firmware version above 255...) fails here, at
    // launch, rather than at the first report.
    serializeReport({
      ...this.#launch,
      reportData: new Uint8Array(64),
      reportId: new Uint8Array(32),
      vmpl: this.#vmpl,
      signature: { rLe: new Uint8Array(72), sLe: new Uint8Array(72) },
    });
  }

  /** The chain's trust anchor: what a manifest must name to trust this platform's reports. */
  get trustAnchor(): DevChain['trustAnchor'] {
    return this.#chain.trustAnchor;
  }

  async getReport(reportData: Uint8Array, opts?: { vmpl?: number }): Promise<PlatformEvidence> {
    if (!(reportData instanceof Uint8Array) || reportData.length !== 64) {
      fail(`reportData must be a Uint8Array of 64 bytes, got ${reportData?.length}`);
    }
    const fields: UnsignedReportFields = {
      ...this.#launch,
      reportData: reportData.slice(),
      vmpl: opts?.vmpl === undefined ? this.#vmpl : checkVmpl(opts.vmpl),
      reportId: crypto.getRandomValues(new Uint8Array(32)),
    };
    const report = await signReport(fields, this.#chain.vcekPrivateKey);
    const { vcek, ask, ark } = this.#chain.certificates;
    return { report, certificates: { vcek: vcek.slice(), ask: ask.slice(), ark: ark.slice() } };
  }
}
