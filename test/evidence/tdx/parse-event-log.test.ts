/**
 * parseEventLog: a TDVF-shaped CC event log parses to its entries; every hostile shape — truncated
 * anywhere inside an entry, oversized counts and sizes, another algorithm set, an MR index the TD
 * does not have, junk after the last entry, a log over the cap — throws malformed_evidence.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import { isSealgateError } from '../../../src/errors.js';
import { eventTypeName } from '../../../src/evidence/tdx/event-log/event-types.js';
import { MAX_LOG_BYTES, parseEventLog } from '../../../src/evidence/tdx/event-log/parse-event-log.js';
import {
  bootEvents,
  ccEventLog,
  pcrEvent2,
  specIdHeader,
  type TestEvent,
} from '../../support/cc-event-log.js';

function malformed(bytes: Uint8Array): string {
  try {
    parseEventLog(bytes);
  } catch (e) {
    if (isSealgateError(e, 'malformed_evidence')) return e.message;
    throw e;
  }
  throw new Error('parsed');
}

describe('parseEventLog', () => {
  let events: TestEvent[];
  beforeAll(async () => {
    events = await bootEvents();
  });

  it('parses a TDVF-shaped log: header, entries in order, MR index → RTMR, 0xFF padding', () => {
    const log = parseEventLog(ccEventLog(events, { padding: 4096 }));
    expect(log.specVersion).toEqual({ major: 2, minor: 0, errata: 0 });
    expect(log.uintnSize).toBe(2);
    expect(log.paddingBytes).toBe(4096);
    expect(log.events.map((e) => [e.seq, e.mrIndex, e.rtmr])).toEqual([
      [0, 1, 0],
      [1, 1, 0],
      [2, 0, null],
      [3, 1, 0],
      [4, 2, 1],
      [5, 2, 1],
      [6, 2, 1],
      [7, 3, 2],
      [8, 3, 2],
    ]);
    expect(log.events.map((e) => toHex(e.digest))).toEqual(events.map((e) => toHex(e.digest)));
    expect(eventTypeName(log.events[6]!.eventType)).toBe('EV_EFI_BOOT_SERVICES_APPLICATION');
    expect(new TextDecoder().decode(log.events[7]!.data)).toBe('console=ttyS0');
  });

  it('accepts a header-only log; refuses zero filling (it would hide a cut entry); copies bytes', () => {
    expect(parseEventLog(ccEventLog([])).events).toEqual([]);
    const zeros = new Uint8Array(ccEventLog(events).length + 100);
    zeros.set(ccEventLog(events));
    expect(malformed(zeros)).toMatch(/MRTD/);
    const bytes = ccEventLog(events, { padding: 100 });
    const log = parseEventLog(bytes);
    expect(log.events).toHaveLength(events.length);
    expect(log.paddingBytes).toBe(100);
    const before = toHex(log.events[0]!.digest);
    bytes.fill(0x55);
    expect(toHex(log.events[0]!.digest)).toBe(before);
  });

  it('refuses every truncation that cuts an entry (and parses each whole-entry prefix)', () => {
    const header = specIdHeader().length;
    const entries = events.map((e) => pcrEvent2(e).length);
    const bounds = new Set<number>();
    let at = header;
    bounds.add(at);
    for (const n of entries) {
      at += n;
      bounds.add(at);
    }
    const full = ccEventLog(events);
    let refused = 0;
    for (let n = 0; n < full.length; n++) {
      const cut = full.subarray(0, n);
      if (bounds.has(n)) {
        expect(parseEventLog(cut).events.length).toBe([...bounds].indexOf(n));
      } else {
        expect(malformed(cut)).toMatch(/CC event log/);
        refused++;
      }
    }
    // every length below the whole log but the whole-entry boundaries (the last one is the whole log)
    expect(refused).toBe(full.length - (bounds.size - 1));
  });

  it('refuses another algorithm set: SHA-256 only, SHA-1 + SHA-384, a wrong digest size', () => {
    expect(malformed(ccEventLog([], { algorithms: [{ id: 0x000b, size: 32 }] }))).toMatch(/SHA-384/);
    expect(
      malformed(
        ccEventLog([], {
          algorithms: [
            { id: 0x0004, size: 20 },
            { id: 0x000c, size: 48 },
          ],
        }),
      ),
    ).toMatch(/2 digest algorithms/);
    expect(malformed(ccEventLog([], { algorithms: [{ id: 0x000c, size: 32 }] }))).toMatch(/SHA-384/);
    expect(malformed(ccEventLog([], { algorithms: [] }))).toMatch(/0 digest algorithms/);
  });

  it('refuses an entry with another digest count or algorithm, or an oversized event size', () => {
    const e = events[0]!;
    expect(malformed(ccEventLog([{ ...e, digestCount: 2 }]))).toMatch(/2 digests/);
    expect(malformed(ccEventLog([{ ...e, digestCount: 0xffffffff }]))).toMatch(/4294967295 digests/);
    expect(malformed(ccEventLog([{ ...e, hashAlg: 0x000b }]))).toMatch(/algorithm 0xb/);
    expect(malformed(ccEventLog([{ ...e, eventSize: 0xffffffff }]))).toMatch(/event data.*runs past/);
    expect(malformed(ccEventLog([{ ...e, eventSize: 1 << 20 }], { padding: 64 }))).toMatch(/runs past/);
  });

  it('refuses MR index 5 and above, and MR index 0 (MRTD) on anything but EV_NO_ACTION', () => {
    const e = events[0]!;
    expect(malformed(ccEventLog([{ ...e, mrIndex: 5 }]))).toMatch(/MR index 5/);
    expect(malformed(ccEventLog([{ ...e, mrIndex: 0xffffffff }]))).toMatch(/MR index 4294967295/);
    expect(malformed(ccEventLog([{ ...e, mrIndex: 0 }]))).toMatch(/MRTD/);
  });

  it('refuses a header that is not the Spec ID event, and junk after the last entry', () => {
    expect(malformed(ccEventLog([], { signature: 'Spec ID Event02\0' }))).toMatch(/Spec ID/);
    const noHeader = ccEventLog(events).subarray(specIdHeader().length);
    expect(malformed(noHeader)).toMatch(/first entry/);
    const junk = ccEventLog(events, { padding: 64 });
    junk[junk.length - 10] = 0x00;
    expect(malformed(junk)).toMatch(/CC event log/);
    const header = specIdHeader();
    const spare = new Uint8Array(header.length + 1);
    spare.set(header);
    new DataView(spare.buffer).setUint32(28, new DataView(header.buffer).getUint32(28, true) + 1, true);
    expect(malformed(spare)).toMatch(/after the Spec ID event/);
  });

  it('refuses a log over the cap before reading it', () => {
    const big = new Uint8Array(MAX_LOG_BYTES + 1).fill(0xff);
    big.set(ccEventLog([]));
    expect(malformed(big)).toMatch(/more than/);
  });
});
