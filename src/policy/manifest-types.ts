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

export interface TrustAnchors {
  snp: SnpTrustAnchor[];
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
}

export interface SnpReferenceValues {
  /** MEASUREMENT (0x090, 48 bytes): allowed launch digests, lower-case hex. Non-empty. */
  measurements: string[];
  /** SIGNING_KEY. Default ["vcek"]. */
  signingKeys?: SnpAllowedSigningKey[];
  policy?: SnpGuestPolicyRules;
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

/** Reference values for one role. Only `snp` today; `tdx` and `nvidia` will sit beside it. */
export interface RoleReference {
  snp: SnpReferenceValues;
  /** For people (e.g. which image build the measurements come from); not evaluated. */
  note?: string;
}

/** How the gateway rotates key-encryption keys (see docs/manifest.md "Key policy"). */
export interface KeyPolicy {
  rotationIntervalSeconds: number;
  overlapSeconds: number;
  lifetimeSeconds: number;
}

export interface Manifest {
  version: 1;
  name: string;
  trustAnchors: TrustAnchors;
  /** The roles this manifest trusts; at least one. A role left out is never trusted. */
  roles: Partial<Record<RoleName, RoleReference>>;
  keyPolicy: KeyPolicy;
}

/** One finding of the manifest parser: where (RFC 6901 pointer) and what. */
export interface ManifestIssue {
  path: string;
  message: string;
}
