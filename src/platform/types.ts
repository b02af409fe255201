/**
 * How a confidential VM obtains its hardware evidence. Two implementations: Linux configfs-tsm on
 * real SEV-SNP hardware (`configfs-tsm.ts`) and the simulator (`simulator/`) for development.
 * Which one runs is configuration; a simulated platform says so in `simulated`, and everything
 * built on it must say SIMULATED loudly.
 */
export interface SnpEvidence {
  /** The raw 1184-byte ATTESTATION_REPORT. */
  report: Uint8Array;
  /** DER certificates delivered with the report (extended report / auxblob), where the host has them. */
  certificates: { vcek?: Uint8Array; vlek?: Uint8Array; ask?: Uint8Array; ark?: Uint8Array };
}

export interface AttestationPlatform {
  readonly kind: 'sev-snp';
  /** True for the simulator: never for evidence that real hardware signed. */
  readonly simulated: boolean;
  /** A human-readable description for logs ("configfs-tsm sev_guest at …", "SIMULATED Milan"). */
  readonly description: string;
  /** A report whose REPORT_DATA is exactly the 64 bytes given. */
  getEvidence(reportData: Uint8Array, opts?: { vmpl?: number }): Promise<SnpEvidence>;
}
