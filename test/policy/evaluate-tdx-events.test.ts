/**
 * `tdx.eventDigests`: rules over single events of a replayed CC event log. The real phala-v4 TD's
 * verified claims carry a test log (evaluation trusts claims: verification put the log there only
 * after replay, test/verify/tdx/rtmr-replay.test.ts). Pinned digests pass; another kernel, a
 * missing event type, or no log at all is refused; the parser refuses malformed rules.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { parseEventLog } from '../../src/evidence/tdx/event-log/parse-event-log.js';
import { evaluateRoleTdx } from '../../src/policy/evaluate-role.js';
import { evaluateTdx } from '../../src/policy/evaluate-tdx.js';
import type { TdxEventDigestRule, TdxReferenceValues } from '../../src/policy/manifest-types.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import type { TdxClaims } from '../../src/verify/tdx/tdx-claims.js';
import { verifyTdxEvidence } from '../../src/verify/tdx/verify-tdx.js';
import { bootEvents, ccEventLog, digestOf } from '../support/cc-event-log.js';
import { codes, loadTdx, v } from '../verify/tdx/support.js';

describe.skipIf(!v.present)(`tdx.eventDigests ${v.skipReason}`, () => {
  let claims: TdxClaims;
  let ref: TdxReferenceValues;
  let kernelRule: TdxEventDigestRule;
  let cmdlineRule: TdxEventDigestRule;

  beforeAll(async () => {
    const s = loadTdx('phala-v4-uptodate');
    const verified = (await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at }))
      .claims!;
    claims = { ...verified, eventLog: parseEventLog(ccEventLog(await bootEvents())) };
    ref = { mrTd: [toHex(claims.body.mrTd)] };
    const hex = async (l: string) => toHex(await digestOf(l));
    kernelRule = {
      rtmr: 1,
      eventType: 'EV_EFI_BOOT_SERVICES_APPLICATION',
      digests: [await hex('shim'), await hex('grub'), await hex('vmlinuz')],
    };
    cmdlineRule = { rtmr: 2, eventType: 'EV_IPL', digests: [await hex('cmdline')] };
  });

  it('pinned boot applications (shim, grub, kernel) and command line pass', () => {
    expect(evaluateTdx(claims, { ...ref, eventDigests: [kernelRule, cmdlineRule] })).toEqual([]);
  });

  it('a boot application not in the list is refused, naming the event', () => {
    const rule = { ...kernelRule, digests: kernelRule.digests.slice(0, 2) };
    const out = evaluateTdx(claims, { ...ref, eventDigests: [rule, cmdlineRule] });
    expect(codes(out)).toEqual(['event_digest_not_allowed']);
    expect(out[0]!.message).toMatch(/event 6 \(EV_EFI_BOOT_SERVICES_APPLICATION, RTMR1\)/);
  });

  it('a rule for an event type the RTMR does not have is refused (absence is not allowed)', () => {
    const rule: TdxEventDigestRule = { rtmr: 3, eventType: 'EV_IPL', digests: cmdlineRule.digests };
    expect(codes(evaluateTdx(claims, { ...ref, eventDigests: [rule] }))).toEqual([
      'event_digest_not_allowed',
    ]);
  });

  it('rules without a replayed log are event_log_missing; no rules, no log needed', () => {
    const { eventLog: _, ...noLog } = claims;
    expect(codes(evaluateTdx(noLog, { ...ref, eventDigests: [cmdlineRule] }))).toEqual(['event_log_missing']);
    expect(evaluateTdx(noLog, ref)).toEqual([]);
  });

  const manifest = (tdx: unknown) =>
    parseManifest({
      version: 1,
      name: 'tdx events',
      trustAnchors: {
        snp: [
          { sha256: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd', product: 'Milan' },
        ],
      },
      roles: { worker: { tdx } },
      keyPolicy: { rotationIntervalSeconds: 3600, overlapSeconds: 600, lifetimeSeconds: 7200 },
    });

  it('the manifest parser reads rules, and the role evaluation applies them', () => {
    const m = manifest({ ...ref, eventDigests: [kernelRule, cmdlineRule] });
    expect(m.roles.worker!.tdx!.eventDigests).toEqual([kernelRule, cmdlineRule]);
    expect(evaluateRoleTdx(m, 'worker', claims)).toEqual([]);
  });

  it('the parser refuses bad rules', () => {
    for (const rule of [
      { ...cmdlineRule, rtmr: 4 },
      { ...cmdlineRule, rtmr: -1 },
      { ...cmdlineRule, eventType: 'EV_KERNEL' },
      { ...cmdlineRule, eventType: 13 },
      { ...cmdlineRule, digests: [] },
      { ...cmdlineRule, digests: ['ab'.repeat(32)] },
      { ...cmdlineRule, note: 'x' },
      { rtmr: 2, eventType: 'EV_IPL' },
    ]) {
      expect(() => manifest({ ...ref, eventDigests: [rule] }), JSON.stringify(rule)).toThrow(/manifest/i);
    }
    expect(() => manifest({ ...ref, eventDigests: [cmdlineRule, cmdlineRule] })).toThrow(/manifest/i);
    expect(() => manifest({ ...ref, eventDigests: [] })).toThrow(/manifest/i);
  });
});
