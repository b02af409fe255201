/**
 * The SEV-SNP attestation report as Sealgate sees it after parsing (stage 1 of parse → verify →
 * evaluate). Field names follow AMD's "SEV Secure Nested Paging Firmware ABI Specification"
 * (pub. 56860), Table 23 "ATTESTATION_REPORT Structure" (rev 1.57; Table 22 in older revisions).
 * All multi-byte integers in the report are little-endian. TCB values stay raw (`bigint`) here
 * because their layout depends on the product (Milan/Genoa vs Turin), which a v2 report does not
 * carry: decode them with `decodeTcb(raw, product)` once the product is known.
 */

/** The processor generations Sealgate knows. */
export type SnpProduct = 'Milan' | 'Genoa' | 'Turin';

/** Which key signed the report: SIGNING_KEY in the signer-info word (0x48, bits 4:2). */
export type SnpSigningKey = 'vcek' | 'vlek' | 'none';

/** TCB_VERSION decoded. Milan/Genoa: bl=byte0, tee=byte1, snp=byte6, ucode=byte7.
 *  Turin: fmc=byte0, bl=byte1, tee=byte2, snp=byte3, ucode=byte7. */
export interface TcbVersion {
  /** Only on Turin; undefined on Milan/Genoa. */
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

/** GUEST_POLICY (report offset 0x08), ABI spec Table 9 "Guest Policy Structure". */
export interface GuestPolicy {
  raw: bigint;
  abiMinor: number;
  abiMajor: number;
  smt: boolean;
  migrateMa: boolean;
  debug: boolean;
  singleSocket: boolean;
  cxlAllow: boolean;
  memAes256Xts: boolean;
  raplDis: boolean;
  ciphertextHiding: boolean;
  pageSwapDisable: boolean;
}

/** PLATFORM_INFO (report offset 0x40), ABI spec Table 24 (rev 1.57). */
export interface PlatformInfo {
  raw: bigint;
  smtEnabled: boolean;
  tsmeEnabled: boolean;
  eccEnabled: boolean;
  raplDisabled: boolean;
  ciphertextHidingEnabled: boolean;
  aliasCheckComplete: boolean;
  tioEnabled: boolean;
}

export interface FirmwareVersion {
  major: number;
  minor: number;
  build: number;
}

export interface SnpReport {
  /** The exact 1184 bytes that were parsed (a copy). */
  raw: Uint8Array;
  /** The signed region, bytes [0x000, 0x2A0). */
  signedBytes: Uint8Array;
  version: number;
  guestSvn: number;
  policy: GuestPolicy;
  familyId: Uint8Array; // 16
  imageId: Uint8Array; // 16
  vmpl: number;
  signatureAlgo: number;
  currentTcb: bigint;
  platformInfo: PlatformInfo;
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: SnpSigningKey;
  reportData: Uint8Array; // 64
  measurement: Uint8Array; // 48
  hostData: Uint8Array; // 32
  idKeyDigest: Uint8Array; // 48
  authorKeyDigest: Uint8Array; // 48
  reportId: Uint8Array; // 32
  reportIdMa: Uint8Array; // 32
  reportedTcb: bigint;
  /** CPUID_FAM_ID / CPUID_MOD_ID / CPUID_STEP (0x188..0x18A), version ≥ 3 only; null on v2. */
  cpuid: { family: number; model: number; stepping: number } | null;
  chipId: Uint8Array; // 64
  committedTcb: bigint;
  currentVersion: FirmwareVersion;
  committedVersion: FirmwareVersion;
  launchTcb: bigint;
  /** LAUNCH_MIT_VECTOR / CURRENT_MIT_VECTOR (0x1F8 / 0x200), version ≥ 5 only; null before. */
  launchMitVector: bigint | null;
  currentMitVector: bigint | null;
  /** ECDSA P-384 signature, r and s as the report stores them: 72-byte little-endian fields. */
  signature: { rLe: Uint8Array; sLe: Uint8Array };
}

/** The AMD-specific X.509 extensions of a VCEK/VLEK (AMD's "Versioned Chip Endorsement Key
 *  (VCEK) Certificate and KDS Interface Specification", pub. 57230, Table 8). */
export interface AmdCertExtensions {
  /** 1.3.6.1.4.1.3704.1.1 */
  structVersion: number;
  /** 1.3.6.1.4.1.3704.1.2, e.g. "Milan-B0", "Genoa", "Turin". */
  productName: string;
  /** SPLs (1.3.6.1.4.1.3704.1.3.x) as DER INTEGERs. fmc only on Turin (…3.9). */
  tcb: TcbVersion;
  /** 1.3.6.1.4.1.3704.1.4: raw bytes (not a DER OCTET STRING); VCEK only. 64 bytes (Milan/Genoa) or 8 (Turin). */
  hwId: Uint8Array | null;
  /** 1.3.6.1.4.1.3704.1.5: CSP id; VLEK only. */
  cspId: string | null;
}

/**
 * What stage 2 (verification: signatures and chain) hands to stage 3 (policy evaluation): a
 * report whose signature verified under a leaf that chains to a pinned root, with its TCBs decoded
 * for the product. Produced by `src/verify`, consumed by `src/policy`.
 */
export interface SnpClaims {
  report: SnpReport;
  product: SnpProduct;
  signingKey: Exclude<SnpSigningKey, 'none'>;
  reportedTcb: TcbVersion;
  currentTcb: TcbVersion;
  committedTcb: TcbVersion;
  launchTcb: TcbVersion;
  /** The endorsement certificate (VCEK/VLEK) that signed the report. */
  leaf: {
    subject: string;
    notBefore: Date;
    notAfter: Date;
    /** SHA-256 of the DER, lower-case hex. */
    sha256: string;
    extensions: AmdCertExtensions;
  };
  /** SHA-256 (DER, lower-case hex) of the ASK/ASVK and of the ARK the chain ended in. */
  chain: { intermediateSha256: string; rootSha256: string };
}
