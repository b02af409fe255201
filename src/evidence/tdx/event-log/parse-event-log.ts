/**
 * Stage 1 for a TD's event log: the CC event log (ACPI CCEL table data, /sys/firmware/acpi/tables/
 * data/CCEL; UEFI spec 2.10 §38.4) → `CcEventLog`, structure only. The format is the TCG PC Client
 * PFP crypto-agile log (§10.2): one TCG_PCClientPCREvent whose data is TCG_EfiSpecIdEvent (§10.4.5.1),
 * then TCG_PCR_EVENT2 entries, all little-endian. Throws `SealgateError('malformed_evidence')` for:
 *   - a log over MAX_LOG_BYTES, or more than MAX_EVENTS entries;
 *   - a first entry that is not MR index 0, EV_NO_ACTION, a zero SHA-1 digest and the Spec ID event
 *     ("Spec ID Event03\0", spec version 2.0, UINTN size 1 or 2) filling its EventSize exactly;
 *   - an algorithm set other than exactly SHA-384 (TPM_ALG_SHA384 0x000C, 48 bytes): RTMRs are
 *     SHA-384 registers, and a log with other banks would carry digests no RTMR holds;
 *   - an entry whose digest count is not 1 or whose algorithm is not SHA-384;
 *   - an MR index above 4, or MR index 0 (MRTD, which no event extends) on anything but EV_NO_ACTION;
 *   - any length that runs past the end.
 * The log ends where the rest is all 0xFF: the unused area, which the firmware fills with 0xFF.
 * 0xFF cannot begin an entry (MR index ≤ 4), so a cut entry is never mistaken for the end; zero
 * filling is not accepted, since an MR index 0 entry begins with zeros. Anything else after an
 * entry must be another whole entry.
 */
import { SealgateError } from '../../../errors.js';
import { EV_NO_ACTION } from './event-types.js';
import type { CcEvent, CcEventLog } from './types.js';

/** TDVF reserves 64 KiB (PcdCcEventlogAcpiTableLaml); 4 MiB leaves room for a runtime log appended. */
export const MAX_LOG_BYTES = 4 * 1024 * 1024;
export const MAX_EVENTS = 8192;

export const TPM_ALG_SHA384 = 0x000c;
export const SHA384_BYTES = 48;
const SPEC_ID_SIGNATURE = 'Spec ID Event03\0';
/** MR index 0 is MRTD; 1..4 are RTMR0..3 (UEFI spec 2.10 §38.4.1, EFI_CC_EVENT.Header.MrIndex). */
const MAX_MR_INDEX = 4;

function malformed(message: string, offset: number): SealgateError {
  return new SealgateError('malformed_evidence', `CC event log: ${message} (at byte ${offset})`, {
    field: 'eventLog',
    offset,
  });
}

/** A bounds-checked little-endian cursor: every read is checked against the end first. */
class Cursor {
  private readonly view: DataView;
  pos = 0;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get left(): number {
    return this.bytes.length - this.pos;
  }
  private need(n: number, what: string): void {
    if (n > this.left) throw malformed(`${what} (${n} bytes) runs past the end`, this.pos);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** True when every byte left is `fill`. */
  restIs(fill: number): boolean {
    for (let i = this.pos; i < this.bytes.length; i++) if (this.bytes[i] !== fill) return false;
    return true;
  }
}

interface SpecId {
  specVersion: { major: number; minor: number; errata: number };
  uintnSize: number;
}

/** TCG_EfiSpecIdEvent, inside the header entry's data (exactly `data`). */
function parseSpecId(data: Uint8Array, base: number): SpecId {
  const c = new Cursor(data);
  const signature = c.take(16, 'Spec ID signature');
  if (String.fromCharCode(...signature) !== SPEC_ID_SIGNATURE)
    throw malformed('the first entry is not the "Spec ID Event03" header', base);
  c.u32('platformClass');
  const minor = c.u8('specVersionMinor');
  const major = c.u8('specVersionMajor');
  const errata = c.u8('specErrata');
  const uintnSize = c.u8('uintnSize');
  if (major !== 2 || minor !== 0) throw malformed(`spec version ${major}.${minor}, expected 2.0`, base);
  if (uintnSize !== 1 && uintnSize !== 2) throw malformed(`uintnSize ${uintnSize}`, base);
  const count = c.u32('numberOfAlgorithms');
  if (count !== 1)
    throw malformed(`${count} digest algorithms, expected exactly one (SHA-384)`, base + c.pos - 4);
  const alg = c.u16('algorithmId');
  const size = c.u16('digestSize');
  if (alg !== TPM_ALG_SHA384 || size !== SHA384_BYTES)
    throw malformed(`digest algorithm 0x${alg.toString(16)}/${size} bytes, expected SHA-384`, base);
  const vendorInfoSize = c.u8('vendorInfoSize');
  c.take(vendorInfoSize, 'vendorInfo');
  if (c.left !== 0) throw malformed(`${c.left} bytes after the Spec ID event's vendorInfo`, base);
  return { specVersion: { major, minor, errata }, uintnSize };
}

/** The TCG_PCClientPCREvent header entry (SHA-1 format, PFP §10.2.1). */
function parseHeader(c: Cursor): SpecId {
  const mrIndex = c.u32('header MR index');
  const type = c.u32('header event type');
  if (mrIndex !== 0 || type !== EV_NO_ACTION)
    throw malformed('the first entry is not an MR index 0 EV_NO_ACTION entry', 0);
  const digest = c.take(20, 'header digest');
  if (!digest.every((b) => b === 0)) throw malformed('the header digest is not zero', 8);
  const size = c.u32('header event size');
  const at = c.pos;
  return parseSpecId(c.take(size, 'header event data'), at);
}

/** One TCG_PCR_EVENT2 (PFP §10.2.2) with exactly one digest, SHA-384. */
function parseEvent(c: Cursor, seq: number): CcEvent {
  const start = c.pos;
  const mrIndex = c.u32('MR index');
  const eventType = c.u32('event type');
  if (mrIndex > MAX_MR_INDEX) throw malformed(`MR index ${mrIndex} (RTMR0..3 are 1..4)`, start);
  if (mrIndex === 0 && eventType !== EV_NO_ACTION)
    throw malformed('an event extends MR index 0 (MRTD), which no log can', start);
  const count = c.u32('digest count');
  if (count !== 1) throw malformed(`${count} digests, expected exactly one`, start + 8);
  const alg = c.u16('digest algorithm');
  if (alg !== TPM_ALG_SHA384) throw malformed(`digest algorithm 0x${alg.toString(16)}`, start + 12);
  const digest = c.take(SHA384_BYTES, 'digest');
  const size = c.u32('event size');
  const data = c.take(size, 'event data');
  const rtmr = mrIndex === 0 ? null : ((mrIndex - 1) as 0 | 1 | 2 | 3);
  return { seq, mrIndex, rtmr, eventType, digest, data };
}

export function parseEventLog(bytes: Uint8Array): CcEventLog {
  if (!(bytes instanceof Uint8Array))
    throw new SealgateError('invalid_argument', 'parseEventLog: expected a Uint8Array');
  if (bytes.length > MAX_LOG_BYTES) throw malformed(`${bytes.length} bytes, more than ${MAX_LOG_BYTES}`, 0);
  const c = new Cursor(bytes);
  const { specVersion, uintnSize } = parseHeader(c);
  const events: CcEvent[] = [];
  while (c.left > 0 && !c.restIs(0xff)) {
    if (events.length === MAX_EVENTS) throw malformed(`more than ${MAX_EVENTS} events`, c.pos);
    events.push(parseEvent(c, events.length));
  }
  return { specVersion, uintnSize, events, paddingBytes: c.left };
}
