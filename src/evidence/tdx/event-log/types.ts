/**
 * A parsed CC event log (stage 1): what the firmware and boot chain claim to have extended into
 * RTMR0..3, in order. Nothing here is trusted until verify/tdx/rtmr-replay.ts has replayed the
 * digests and found the quote's RTMRs.
 */

/** One TCG_PCR_EVENT2 entry (TCG PC Client PFP §10.2.2), its one SHA-384 digest. */
export interface CcEvent {
  /** Position among the log's TCG_PCR_EVENT2 entries, from 0 (the Spec ID header is not counted). */
  seq: number;
  /** The entry's MR index (UEFI spec 2.10 §38.4.1): 0 MRTD, 1..4 RTMR0..3. */
  mrIndex: number;
  /** RTMR number (mrIndex − 1), or null for an MR index 0 EV_NO_ACTION entry. */
  rtmr: 0 | 1 | 2 | 3 | null;
  eventType: number;
  /** SHA-384 digest (48 bytes), as extended. */
  digest: Uint8Array;
  /** The event data (TCG_PCR_EVENT2.Event): informative, never what is extended. */
  data: Uint8Array;
}

export interface CcEventLog {
  /** TCG_EfiSpecIdEvent fields (PFP §10.4.5.1). */
  specVersion: { major: number; minor: number; errata: number };
  uintnSize: number;
  events: CcEvent[];
  /** 0xFF bytes after the last event: the unused log area (ACPI CCEL LAML). */
  paddingBytes: number;
}
