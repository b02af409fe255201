/**
 * RTMR replay: what a CC event log claims, checked against what the TD's quote signed. Each RTMR
 * starts as 48 zero bytes and every extension is RTMR := SHA-384(RTMR ‖ digest) (Intel TDX Module
 * ABI spec, TDG.MR.RTMR.EXTEND; TDX guest-host communication / UEFI spec 2.10 §38.4: MR index 1..4
 * is RTMR0..3). EV_NO_ACTION entries are never extended (TCG PC Client PFP §10.4.1).
 *
 * All four registers are compared: a log accounts for every extension of every RTMR, so runtime
 * extensions (of RTMR3, typically) must be appended to the log supplied, or the replay differs.
 * Only a log whose replay equals the quote's RTMRs reaches the claims; any difference, or a log
 * that does not parse, is a violation (fail closed: the log is then ignored, never half-used).
 */
import { concatBytes, constantTimeEqual, sha384, toHex } from '../../bytes.js';
import { isSealgateError } from '../../errors.js';
import { EV_NO_ACTION } from '../../evidence/tdx/event-log/event-types.js';
import { parseEventLog } from '../../evidence/tdx/event-log/parse-event-log.js';
import type { CcEventLog } from '../../evidence/tdx/event-log/types.js';
import type { TdReportBody } from '../../evidence/tdx/types.js';
import { type Violation, violation } from '../violations.js';

export type Rtmrs = [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

/** RTMR0..3 as the log's extensions leave them, from 48 zero bytes each. */
export async function replayRtmrs(log: CcEventLog): Promise<Rtmrs> {
  const rtmrs: Rtmrs = [new Uint8Array(48), new Uint8Array(48), new Uint8Array(48), new Uint8Array(48)];
  for (const e of log.events) {
    if (e.eventType === EV_NO_ACTION || e.rtmr === null) continue;
    rtmrs[e.rtmr] = await sha384(concatBytes(rtmrs[e.rtmr], e.digest));
  }
  return rtmrs;
}

/**
 * Parses `bytes` and replays it against the quote body's RTMRs. Returns the log only when every
 * RTMR matches; otherwise null, with `event_log_malformed` or one `rtmr_replay_mismatch` per RTMR.
 */
export async function checkEventLog(
  bytes: Uint8Array,
  body: TdReportBody,
  out: Violation[],
): Promise<CcEventLog | null> {
  let log: CcEventLog;
  try {
    log = parseEventLog(bytes);
  } catch (e) {
    if (!isSealgateError(e, 'malformed_evidence')) throw e;
    out.push(violation('event_log_malformed', e.message, { field: 'eventLog' }));
    return null;
  }
  const replayed = await replayRtmrs(log);
  let ok = true;
  for (let i = 0; i < 4; i++) {
    if (constantTimeEqual(replayed[i]!, body.rtmrs[i]!)) continue;
    ok = false;
    out.push(
      violation('rtmr_replay_mismatch', `RTMR${i} replayed from the event log differs from the quote's`, {
        field: `rtmr${i}`,
        expected: toHex(body.rtmrs[i]!),
        actual: toHex(replayed[i]!),
      }),
    );
  }
  return ok ? log : null;
}
