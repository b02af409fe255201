/**
 * How a confidential VM obtains its hardware evidence. Two TEEs — AMD SEV-SNP and Intel TDX — and
 * for each two implementations: Linux configfs-tsm on real hardware (`configfs-tsm.ts`,
 * `configfs-tsm-tdx.ts`) and the simulator (`simulator/`) for development. Which one runs is
 * configuration (SEALGATE_PLATFORM, SEALGATE_TEE: src/dev/program-config.ts); a simulated platform
 * says so in `simulated`, and everything built on it must say SIMULATED loudly.
 */
import type { TdxCollateral } from '../verify/tdx/collateral.js';

export interface SnpEvidence {
  /** The raw 1184-byte ATTESTATION_REPORT. */
  report: Uint8Array;
  /** DER certificates delivered with the report (extended report / auxblob), where the host has them. */
  certificates: { vcek?: Uint8Array; vlek?: Uint8Array; ask?: Uint8Array; ark?: Uint8Array };
}

export interface TdxEvidence {
  /** The raw TDX quote (v4 or v5): its PCK chain is inside it. */
  quote: Uint8Array;
  /** Intel's collateral for the quote, where the platform has it (the simulator; a PCCS fetch). */
  collateral?: TdxCollateral;
}

interface PlatformCommon {
  /** True for the simulator: never for evidence that real hardware signed. */
  readonly simulated: boolean;
  /** A human-readable description for logs ("configfs-tsm sev_guest at …", "SIMULATED Milan"). */
  readonly description: string;
}

export interface SnpPlatform extends PlatformCommon {
  readonly kind: 'sev-snp';
  /** A report whose REPORT_DATA is exactly the 64 bytes given. */
  getEvidence(reportData: Uint8Array, opts?: { vmpl?: number }): Promise<SnpEvidence>;
}

export interface TdxPlatform extends PlatformCommon {
  readonly kind: 'tdx';
  /** A quote whose REPORT_DATA is exactly the 64 bytes given. */
  getEvidence(reportData: Uint8Array): Promise<TdxEvidence>;
}

export type AttestationPlatform = SnpPlatform | TdxPlatform;
