/**
 * The manifest: the organization's one statement of what may see prompts. The same bytes are held
 * by the gateway, the attestation service and (bound by digest into REPORT_DATA) every worker.
 * Reference: docs/manifest.md; schema: manifests/manifest.schema.json.
 *
 * These types are the JSON document exactly as written: optional fields stay absent (defaults are
 * applied where the rule is evaluated), so the RFC 8785 digest of a parsed manifest equals the
 * digest of the text it came from.
 */

import type { SnpProduct } from '../evidence/snp/types.js';
import type { EventTypeName } from '../evidence/tdx/event-log/event-types.js';
import type { OcspPolicy } from '../verify/nvidia/revocation.js';
import type { TcbStatus } from '../verify/tdx/tcb-info.js';

export type { SnpProduct };

export const SNP_PRODUCTS = ['Milan', 'Genoa', 'Turin'] as const satisfies readonly SnpProduct[];

/** The roles a manifest describes. Closed: a role not listed here is `role_unknown`. */
export const ROLES = ['attestation-service', 'worker'] as const;
export type RoleName = (typeof ROLES)[number];

/** Keys that may sign an SNP report (SIGNING_KEY, report offset 0x48 bits 4:2). */
export const SNP_SIGNING_KEYS = ['vcek', 'vlek'] as const;
export type SnpAllowedSigningKey = (typeof SNP_SIGNING_KEYS)[number];

/** A root of trust: the SHA-256 of an AMD Root Key certificate's DER. */
export interface SnpTrustAnchor {
  /** 64 lower-case hex characters. */
  sha256: string;
  product: SnpProduct;
  /** Present (and `true`) only for the simulator's development root; never on AMD's roots. */
  simulated?: true;
  note?: string;
}

/**
 * A root of trust for Intel TDX: the SHA-256 of an SGX Root CA certificate's DER. Intel's root
 * (src/verify/tdx/intel-root.ts) must not carry `simulated`; any other root is the simulator's and
 * must carry `simulated: true`.
 */
export interface TdxTrustAnchor {
  /** 64 lower-case hex characters. */
  sha256: string;
  simulated?: true;
  note?: string;
}

/** Which NVIDIA chain a GPU anchor roots: the device-identity chain or the RIM signing chain. */
export const NVIDIA_ANCHOR_USES = ['device', 'rim'] as const;
export type NvidiaAnchorUse = (typeof NVIDIA_ANCHOR_USES)[number];

/** A root for GPU evidence: the SHA-256 of a root certificate's DER (src/verify/nvidia/nvidia-roots.ts). */
export interface NvidiaTrustAnchor {
  /** 64 lower-case hex characters. */
  sha256: string;
  use: NvidiaAnchorUse;
  /** Present (and `true`) only for the simulator's GPU root; never on NVIDIA's roots. */
  simulated?: true;
  note?: string;
}

export interface TrustAnchors {
  snp: SnpTrustAnchor[];
  /** Absent: Intel's SGX Root CA only. Present: exactly these roots (Intel's is not added). */
  tdx?: TdxTrustAnchor[];
  /** GPU roots. Absent: NVIDIA's production roots (docs/manifest.md "trustAnchors.nvidia"). */
  nvidia?: NvidiaTrustAnchor[];
}

/** Minimum SPLs of a TCB_VERSION for one product line (ABI spec §2.2 "TCB Version"; layouts in `TcbVersion`). */
export interface SnpTcbMinimum {
  /** Turin only (required there, rejected for Milan/Genoa). */
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

/**
 * Minimums per product line. SPL numbering is per product (a microcode SPL on Milan says nothing
 * about Genoa), so one flat minimum cannot serve a role that runs on two generations. The products
 * named here are the products the role accepts.
 */
export type SnpTcbMinimums = Partial<Record<SnpProduct, SnpTcbMinimum>>;

/** Rules over GUEST_POLICY (ABI spec Table 9). Every field defaults to the strict choice. */
export interface SnpGuestPolicyRules {
  /** Bit 19 DEBUG. Default false. */
  allowDebug?: boolean;
  /** Bit 18 MIGRATE_MA. Default false. */
  allowMigrationAgent?: boolean;
  /** Bit 16 SMT. Default false. */
  allowSmt?: boolean;
  /** Bit 20 SINGLE_SOCKET must be set. Default false. */
  requireSingleSocket?: boolean;
  /** Bits 15:8 ABI_MAJOR, 7:0 ABI_MINOR must be at least this. Default 0.0. */
  minAbi?: { major: number; minor: number };
  /** Bit 21 CXL_ALLOW (CXL devices or memory may be attached). Default false. */
  allowCxl?: boolean;
  /** Bit 22 MEM_AES_256_XTS must be set. Default false. */
  requireMemAes256Xts?: boolean;
  /** Bit 23 RAPL_DIS must be set. Default false. */
  requireRaplDisabled?: boolean;
  /** Bit 24 CIPHERTEXT_HIDING_DRAM must be set. Default false. */
  requireCiphertextHiding?: boolean;
  /** Bit 25 PAGE_SWAP_DISABLE must be set. Default false. */
  requirePageSwapDisabled?: boolean;
}

/**
 * Rules over PLATFORM_INFO (ABI spec Table 24), as go-sev-guest's `validate.Options.PlatformInfo`:
 * `allow*` bits may be set only when allowed, `require*` bits must be set. See docs/manifest.md.
 */
export interface SnpPlatformInfoRules {
  /** Bit 0 SMT_EN. Default: the guest policy's `allowSmt`. */
  allowSmt?: boolean;
  /** Bit 1 TSME_EN. Default true (see docs/manifest.md). */
  allowTsme?: boolean;
  /** Bit 2 ECC_EN must be set (report version ≥ 3). Default false. */
  requireEcc?: boolean;
  /** Bit 3 RAPL_DIS must be set (report version ≥ 3). Default false. */
  requireRaplDisabled?: boolean;
  /** Bit 4 CIPHERTEXT_HIDING_EN must be set (report version ≥ 3). Default false. */
  requireCiphertextHiding?: boolean;
  /** Bit 5 ALIAS_CHECK_COMPLETE must be set (report version ≥ 3). Default false. */
  requireAliasCheck?: boolean;
  /** Bit 7 TIO_EN. Default false. */
  allowTio?: boolean;
}

export interface SnpReferenceValues {
  /** MEASUREMENT (0x090, 48 bytes): allowed launch digests, lower-case hex. Non-empty. */
  measurements: string[];
  /** SIGNING_KEY. Default ["vcek"]. */
  signingKeys?: SnpAllowedSigningKey[];
  policy?: SnpGuestPolicyRules;
  /** PLATFORM_INFO (0x040) rules. */
  platformInfo?: SnpPlatformInfoRules;
  /** Compared with REPORTED_TCB (0x180) component by component. Keys = accepted products. */
  minimumTcb: SnpTcbMinimums;
  /** Compared with LAUNCH_TCB (0x1F0). Keys must be a subset of `minimumTcb`'s. */
  minimumLaunchTcb?: SnpTcbMinimums;
  /** VMPL (0x030) the report must come from. Default 0. */
  vmpl?: number;
  /** HOST_DATA (0x0C0, 32 bytes), exact. */
  hostData?: string;
  /** ID_KEY_DIGEST (0x0E0, 48 bytes): one of these. */
  idKeyDigests?: string[];
  /** AUTHOR_KEY_DIGEST (0x110, 48 bytes): AUTHOR_KEY_EN must be 1 and the digest one of these. */
  authorKeyDigests?: string[];
  /** CHIP_ID (0x1A0, 64 bytes): one of these. */
  chipIds?: string[];
  /** GUEST_SVN (0x004) at least this. */
  minimumGuestSvn?: number;
  /** Accept COMMITTED_TCB ≠ CURRENT_TCB (provisional firmware). Default false, as go-sev-guest. */
  allowProvisionalFirmware?: boolean;
  /** FAMILY_ID (0x010, 16 bytes), exact. */
  familyId?: string;
  /** IMAGE_ID (0x020, 16 bytes), exact. */
  imageId?: string;
}

/** `allowed`: the worker may send an API key (MODEL_API_KEY) to its model endpoint. */
export const MODEL_API_KEY_RULES = ['forbidden', 'allowed'] as const;
export type ModelApiKeyRule = (typeof MODEL_API_KEY_RULES)[number];

/**
 * Where a worker may send opened prompts (docs/manifest.md "roles.worker.model"). Absent: the
 * built-in model or loopback, no API key (`DEFAULT_MODEL_POLICY` in model-policy.ts).
 */
export interface ModelRules {
  /** `builtin`, `loopback`, or normalized URLs (model-endpoint.ts) matched exactly. Non-empty. */
  endpoints: string[];
  /** Default `forbidden`. */
  apiKey?: ModelApiKeyRule;
}

/** GPU architectures the verifier knows (the device chain's architecture CA). */
export const GPU_ARCHITECTURES = ['hopper'] as const;
export type GpuArchitectureName = (typeof GPU_ARCHITECTURES)[number];

/** Where a role's GPU reference measurements come from. */
export const GPU_MEASUREMENT_SOURCES = ['rim', 'golden'] as const;

/** One pinned GPU measurement: SPDM block `index` (1-based) must be one of `values`. */
export interface GpuGoldenMeasurement {
  index: number;
  /** 48-byte SHA-384 values, lower-case hex. */
  values: string[];
}

export interface GpuMeasurements {
  /**
   * "rim": NVIDIA's driver and VBIOS RIMs must have verified and matched (every active index).
   * "golden": every index in `golden` must hold one of its values.
   */
  source: (typeof GPU_MEASUREMENT_SOURCES)[number];
  /** Required with "golden", absent with "rim". */
  golden?: GpuGoldenMeasurement[];
}

/** Reference values for a role's GPUs (docs/manifest.md "gpu"). Absent: the role may have no GPU. */
export interface GpuReferenceValues {
  /** How many GPUs the role must present, inclusive bounds. */
  count: { min: number; max: number };
  architecture: GpuArchitectureName;
  /** Driver versions as the report carries them, e.g. "550.90.07". Non-empty. */
  driverVersions: string[];
  /** VBIOS versions, lower-case, e.g. "96.00.9f.00.01". Non-empty. */
  vbiosVersions: string[];
  measurements: GpuMeasurements;
  /** Accept reports without a FWID (drivers before R550: the key is then not bound to the firmware). Default false. */
  allowMissingFwid?: boolean;
  /**
   * OCSP for the device and RIM chains (src/verify/nvidia/revocation.ts). Default "require": a
   * certificate without a verified answer is refused. "best-effort": a missing answer is a warning;
   * a revoked, unknown, stale or badly signed answer is still refused.
   */
  ocsp?: OcspPolicy;
}

/**
 * Reference values for a TD (Intel TDX DCAP quote, TD Quote Body, A.3.2). Hex values are the quote's
 * bytes as written (lower-case). Every optional member defaults to the strict choice.
 */
export interface TdxReferenceValues {
  /** MRTD (body 0x088, 48 bytes): allowed build-time measurements. Non-empty. */
  mrTd: string[];
  /** RTMR0..RTMR3 (0x148.., 48 bytes each): when given, the allowed values of that register. */
  rtmr0?: string[];
  rtmr1?: string[];
  rtmr2?: string[];
  rtmr3?: string[];
  /** MRCONFIGID (0x0B8), MROWNER (0x0E8), MROWNERCONFIG (0x118), 48 bytes each: exact. */
  mrConfigId?: string;
  mrOwner?: string;
  mrOwnerConfig?: string;
  /** MRSEAM (0x010, 48 bytes): allowed TDX module measurements. */
  mrSeam?: string[];
  /**
   * TDATTRIBUTES (0x078, 8 bytes as in the quote): bits that may be set. DEBUG (bit 0) is refused
   * whatever this says. Default "0000001000000000": SEPT_VE_DISABLE (bit 28) only.
   */
  tdAttributesAllowed?: string;
  /** TDATTRIBUTES bits that must be set. Default "0000001000000000": SEPT_VE_DISABLE. */
  tdAttributesRequired?: string;
  /** XFAM (0x080, 8 bytes as in the quote): allowed values. */
  xfam?: string[];
  /** TEE_TCB_SVN (0x000, 16 bytes): each byte at least this one. */
  minimumTeeTcbSvn?: string;
  /** TCB statuses accepted. Default ["UpToDate"]. */
  tcbStatuses?: TcbStatus[];
  /** Advisory IDs (INTEL-SA-NNNNN) that may be open. Default none. */
  advisoryIds?: string[];
  /**
   * Rules over single events of the CC event log (docs/manifest.md "Event digests"). When present,
   * an event log whose replay equals the quote's RTMRs must be supplied (`event_log_missing`).
   */
  eventDigests?: TdxEventDigestRule[];
}

/**
 * Every event of `eventType` extended into RTMR `rtmr` has one of `digests` (SHA-384, hex), and there
 * is at least one such event (`event_digest_not_allowed`).
 */
export interface TdxEventDigestRule {
  rtmr: 0 | 1 | 2 | 3;
  /** A TCG PC Client PFP event type name (src/evidence/tdx/event-log/event-types.ts). */
  eventType: EventTypeName;
  digests: string[];
}

/** Reference values for one role: SEV-SNP, Intel TDX, or both (at least one) for its CPU; `gpu` for its GPUs. */
export interface RoleReference {
  snp?: SnpReferenceValues;
  tdx?: TdxReferenceValues;
  gpu?: GpuReferenceValues;
  /** The worker role only: where it may send opened prompts. */
  model?: ModelRules;
  /** For people (e.g. which image build the measurements come from); not evaluated. */
  note?: string;
}

/** How the gateway rotates key-encryption keys (see docs/manifest.md "Key policy"). */
export interface KeyPolicy {
  rotationIntervalSeconds: number;
  overlapSeconds: number;
  lifetimeSeconds: number;
}

/** The gateway the attestation service takes keys from (docs/manifest.md "gateway"). */
export interface GatewayPin {
  /** The gateway's Ed25519 identity public key (src/keys/gateway-key.ts), 64 lower-case hex. */
  uploadKey: string;
  note?: string;
}

export interface Manifest {
  version: 1;
  name: string;
  trustAnchors: TrustAnchors;
  /** The roles this manifest trusts; at least one. A role left out is never trusted. */
  roles: Partial<Record<RoleName, RoleReference>>;
  keyPolicy: KeyPolicy;
  /** Absent: no gateway is pinned, and a production attestation service refuses to start. */
  gateway?: GatewayPin;
}

/** One finding of the manifest parser: where (RFC 6901 pointer) and what. */
export interface ManifestIssue {
  path: string;
  message: string;
}
