/**
 * RTMR replay: a log whose extensions give a TD's RTMRs is accepted and reaches the claims; a
 * single-bit change of one digest, a reordering, an event moved to another RTMR, a dropped event or
 * a log that does not parse is refused. The real phala-v5 quote (Intel-signed, RTMRs all zero)
 * carries the positive case through verifyTdxEvidence; a simulated TD body (RTMRs computed by the
 * test's own extender) carries the non-trivial logs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import type { TdReportBody } from '../../../src/evidence/tdx/types.js';
import { checkEventLog } from '../../../src/verify/tdx/rtmr-replay.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import type { Violation } from '../../../src/verify/violations.js';
import { bootEvents, ccEventLog, expectedRtmrs, type TestEvent } from '../../support/cc-event-log.js';
import { codes, loadTdx, v } from './support.js';

/** A TD body as a quote would carry it, with these RTMRs; other fields are irrelevant to replay. */
function simulatedBody(rtmrs: Uint8Array[]): TdReportBody {
  const z = (n: number) => new Uint8Array(n);
  return {
    teeTcbSvn: z(16),
    mrSeam: z(48),
    mrSignerSeam: z(48),
    seamAttributes: z(8),
    tdAttributes: z(8),
    xfam: z(8),
    mrTd: z(48),
    mrConfigId: z(48),
    mrOwner: z(48),
    mrOwnerConfig: z(48),
    rtmrs: rtmrs as TdReportBody['rtmrs'],
    reportData: z(64),
    teeTcbSvn2: null,
    mrServiceTd: null,
  };
}

async function check(events: TestEvent[], body: TdReportBody): Promise<{ ok: boolean; out: Violation[] }> {
  const out: Violation[] = [];
  const log = await checkEventLog(ccEventLog(events, { padding: 512 }), body, out);
  expect(log === null).toBe(out.length > 0);
  return { ok: log !== null, out };
}

describe('checkEventLog on a simulated TD', () => {
  let events: TestEvent[];
  let body: TdReportBody;
  beforeAll(async () => {
    events = await bootEvents();
    body = simulatedBody(await expectedRtmrs(events));
  });

  it('accepts the log whose replay is the TD’s RTMR0..3 (EV_NO_ACTION not extended)', async () => {
    expect((await check(events, body)).out).toEqual([]);
    // RTMR0..2 are extended by the boot events, RTMR3 by none: it stays zero and must still match.
    expect(body.rtmrs.map((r) => r.some((b) => b !== 0))).toEqual([true, true, true, false]);
  });

  it('refuses a single-bit change in any one digest, naming that RTMR only', async () => {
    let n = 0;
    for (let i = 0; i < events.length; i++) {
      if (events[i]!.eventType === 3) continue;
      for (const bit of [0, 7 * 8 + 3, 47 * 8 + 7]) {
        const digest = events[i]!.digest.slice();
        digest[bit >> 3]! ^= 1 << (bit & 7);
        const bad = events.map((e, j) => (j === i ? { ...e, digest } : e));
        const { ok, out } = await check(bad, body);
        expect(ok).toBe(false);
        expect(out.map((x) => [x.code, x.field])).toEqual([
          ['rtmr_replay_mismatch', `rtmr${events[i]!.mrIndex - 1}`],
        ]);
        n++;
      }
    }
    expect(n).toBe(8 * 3);
  });

  it('refuses reordered, moved and dropped events, and an extra one', async () => {
    const swapped = [...events];
    [swapped[4], swapped[6]] = [swapped[6]!, swapped[4]!];
    const moved = events.map((e, j) => (j === 8 ? { ...e, mrIndex: 4 } : e));
    const dropped = events.filter((_, j) => j !== 5);
    const extra = [...events, { mrIndex: 4, eventType: 0x0d, digest: events[7]!.digest }];
    const fields = async (xs: TestEvent[]) => (await check(xs, body)).out.map((x) => x.field);
    expect(await fields(swapped)).toEqual(['rtmr1']);
    expect(await fields(moved)).toEqual(['rtmr2', 'rtmr3']);
    expect(await fields(dropped)).toEqual(['rtmr1']);
    expect(await fields(extra)).toEqual(['rtmr3']);
  });

  it('event data is informative only: changing it keeps the replay (the digest is what counts)', async () => {
    const relabelled = events.map((e, j) => (j === 7 ? { ...e, data: new TextEncoder().encode('x') } : e));
    expect((await check(relabelled, body)).ok).toBe(true);
  });

  it('a log that does not parse is event_log_malformed, never replayed', async () => {
    const out: Violation[] = [];
    const bytes = ccEventLog(events).subarray(0, 200);
    expect(await checkEventLog(bytes, body, out)).toBeNull();
    expect(codes(out)).toEqual(['event_log_malformed']);
  });
});

describe.skipIf(!v.present)(`replay through verifyTdxEvidence on a real quote ${v.skipReason}`, () => {
  const s = v.present ? loadTdx('phala-v5-no-tcb-match') : null;
  const run = (eventLog?: Uint8Array) =>
    verifyTdxEvidence({ quote: s!.quote, collateral: s!.collateral, now: s!.at, eventLog });

  it('its RTMRs are all zero: a header-only log replays to them, nothing is added', async () => {
    const r = await run(ccEventLog([], { padding: 1024 }));
    expect(r.quote!.body.rtmrs.map(toHex)).toEqual(Array(4).fill('00'.repeat(48)));
    expect(codes(r.violations)).toEqual(['tcb_level_not_found']);
  });

  it('one extension of RTMR3 is rtmr_replay_mismatch; a cut log is event_log_malformed', async () => {
    const digest = new Uint8Array(48).fill(7);
    const one = await run(ccEventLog([{ mrIndex: 4, eventType: 0x0d, digest }]));
    expect(codes(one.violations)).toEqual(['rtmr_replay_mismatch', 'tcb_level_not_found']);
    expect(one.violations.find((x) => x.code === 'rtmr_replay_mismatch')?.field).toBe('rtmr3');
    const cut = await run(ccEventLog([{ mrIndex: 4, eventType: 0x0d, digest }]).subarray(0, 70));
    expect(codes(cut.violations)).toEqual(['event_log_malformed', 'tcb_level_not_found']);
  });

  it('phala-v4 (UpToDate): a log is replayed too, and without a matching one there are no claims', async () => {
    const p = loadTdx('phala-v4-uptodate');
    const r = await verifyTdxEvidence({ ...p, now: p.at, eventLog: ccEventLog([]) });
    expect(codes(r.violations)).toEqual(['rtmr_replay_mismatch']);
    expect(r.violations.map((x) => x.field)).toEqual(['rtmr0', 'rtmr1', 'rtmr2']);
    expect(r.claims).toBeNull();
    const none = await verifyTdxEvidence({ ...p, now: p.at });
    expect(none.claims?.eventLog).toBeUndefined();
  });
});
