/**
 * The manifest's `tdx.eventDigests` rules over a CC event log that verification has already
 * replayed to the quote's RTMRs (claims.eventLog is present only then, verify/tdx/rtmr-replay.ts).
 * A rule pins one (RTMR, event type): every such event's digest is allowed, and at least one is
 * there, so that a boot chain which loads another or no binary of that kind is refused. Which
 * events carry what (kernel, initrd, command line) is firmware- and boot-loader-specific: see
 * docs/manifest.md "Event digests".
 */
import { toHex } from '../bytes.js';
import { EVENT_TYPES } from '../evidence/tdx/event-log/event-types.js';
import type { CcEventLog } from '../evidence/tdx/event-log/types.js';
import { type Violation, violation } from '../verify/violations.js';
import type { TdxEventDigestRule } from './manifest-types.js';

function checkRule(log: CcEventLog, rule: TdxEventDigestRule, out: Violation[]): void {
  const type = EVENT_TYPES[rule.eventType];
  const field = `eventLog.rtmr${rule.rtmr}.${rule.eventType}`;
  const events = log.events.filter((e) => e.rtmr === rule.rtmr && e.eventType === type);
  if (events.length === 0) {
    out.push(
      violation('event_digest_not_allowed', `no ${rule.eventType} event in RTMR${rule.rtmr}`, {
        field,
        expected: [...rule.digests],
        actual: null,
      }),
    );
    return;
  }
  for (const e of events) {
    const d = toHex(e.digest);
    if (rule.digests.includes(d)) continue;
    out.push(
      violation(
        'event_digest_not_allowed',
        `event ${e.seq} (${rule.eventType}, RTMR${rule.rtmr}) has a digest the role does not allow`,
        { field, expected: [...rule.digests], actual: d },
      ),
    );
  }
}

export function evaluateEventDigests(
  log: CcEventLog | undefined,
  rules: readonly TdxEventDigestRule[] | undefined,
  out: Violation[],
): void {
  if (rules === undefined) return;
  if (log === undefined) {
    out.push(
      violation('event_log_missing', 'the role pins event digests and no replayed event log was supplied', {
        field: 'eventLog',
      }),
    );
    return;
  }
  for (const rule of rules) checkRule(log, rule, out);
}
