/**
 * `--event-log` on `sealgate verify-tdx` and `manifest pin --tdx-quote`, black box on real quotes:
 * a log is replayed against the Intel-signed RTMRs (phala-v5's are all zero, so a header-only log
 * replays; phala-v4's are not, so it does not), a log that does not parse is a violation (exit 1),
 * an unreadable one a usage error (exit 2); a pin refuses a log that does not replay. The rules a
 * pin writes from a replayed log are checked on parsed claims (no real TD log is available).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { eventDigestRulesFor, tdxReferenceValuesFor } from '../../src/cli/manifest-pin-tdx.js';
import { parseEventLog } from '../../src/evidence/tdx/event-log/parse-event-log.js';
import { evaluateTdx } from '../../src/policy/evaluate-tdx.js';
import { verifyTdxEvidence } from '../../src/verify/tdx/verify-tdx.js';
import { bootEvents, ccEventLog, digestOf } from '../support/cc-event-log.js';
import { collateralText, loadTdx, TDX_SETS, type TdxSetName, v } from '../verify/tdx/support.js';

const dir = resolve(process.env.SEALGATE_TESTDATA ?? '../shared/testdata', 'tdx');
const tmp = mkdtempSync(join(tmpdir(), 'sealgate-tdx-log-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array | string): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

/** The quote file and the flags every command here shares: collateral, time, event log. */
function inputs(set: TdxSetName, log: string): { quote: string; flags: string[] } {
  const collateral = write(`${set}.collateral.json`, collateralText(set));
  return {
    quote: join(dir, set, 'quote.bin'),
    flags: ['--collateral', collateral, '--at', TDX_SETS[set].at, '--event-log', log],
  };
}

async function verify(set: TdxSetName, log: string) {
  const { quote, flags } = inputs(set, log);
  const r = await runCli(['verify-tdx', '--quote', quote, ...flags, '--json']);
  const out = r.stdout ? JSON.parse(r.stdout) : null;
  const codes = out ? [...new Set(out.violations.map((x: { code: string }) => x.code))].sort() : null;
  return { exitCode: r.exitCode, out, codes, stderr: r.stderr };
}

describe.skipIf(!v.present)(`--event-log on the real quotes ${v.skipReason}`, () => {
  it('verify-tdx: a header-only log replays to phala-v5’s zero RTMRs (only its TCB finding remains)', async () => {
    const r = await verify('phala-v5-no-tcb-match', write('empty.ccel', ccEventLog([], { padding: 256 })));
    expect(r.exitCode).toBe(1);
    expect(r.codes).toEqual(['tcb_level_not_found']);
  });

  it('verify-tdx: phala-v4 with a log that does not replay is rejected, naming RTMR0..2', async () => {
    const r = await verify('phala-v4-uptodate', write('empty.ccel', ccEventLog([])));
    expect(r.exitCode).toBe(1);
    expect(r.codes).toEqual(['rtmr_replay_mismatch']);
    expect(r.out.violations.map((x: { field: string }) => x.field)).toEqual(['rtmr0', 'rtmr1', 'rtmr2']);
  });

  it('verify-tdx: garbage is event_log_malformed (exit 1); a missing file is a usage error (exit 2)', async () => {
    const r = await verify('phala-v4-uptodate', write('garbage.ccel', 'not an event log'));
    expect(r.exitCode).toBe(1);
    expect(r.codes).toEqual(['event_log_malformed']);
    const missing = await verify('phala-v4-uptodate', join(tmp, 'absent.ccel'));
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--event-log: cannot read/);
  });

  it('manifest pin refuses a log that does not replay; --event-log without --tdx-quote is usage', async () => {
    const log = write('e.ccel', ccEventLog([]));
    const { quote, flags } = inputs('phala-v4-uptodate', log);
    const r = await runCli(['manifest', 'pin', '--tdx-quote', quote, ...flags, '--role', 'worker']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/rtmr_replay_mismatch/);
    const snp = await runCli([
      'manifest',
      'pin',
      '--report',
      'x',
      '--cert',
      'y',
      '--event-log',
      log,
      '--role',
      'worker',
    ]);
    expect(snp.exitCode).toBe(2);
    expect(snp.stderr).toMatch(/--event-log is for TDX/);
  });

  it('a pin from replayed claims writes event rules the same claims pass, and another kernel fails', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const verified = (await verifyTdxEvidence({ ...s, now: s.at })).claims!;
    const claims = { ...verified, eventLog: parseEventLog(ccEventLog(await bootEvents())) };
    const ref = tdxReferenceValuesFor(claims);
    expect(ref.eventDigests).toEqual(eventDigestRulesFor(claims.eventLog));
    expect(ref.eventDigests!.map((r) => [r.rtmr, r.eventType, r.digests.length])).toEqual([
      [1, 'EV_EFI_BOOT_SERVICES_APPLICATION', 3],
      [2, 'EV_IPL', 1],
      [2, 'EV_EVENT_TAG', 1],
    ]);
    expect(evaluateTdx(claims, ref)).toEqual([]);
    const events = await bootEvents();
    events[6] = { ...events[6]!, digest: await digestOf('another kernel') };
    const other = { ...claims, eventLog: parseEventLog(ccEventLog(events)) };
    const out = evaluateTdx(other, ref).map((x) => [x.code, x.field]);
    expect(out).toEqual([['event_digest_not_allowed', 'eventLog.rtmr1.EV_EFI_BOOT_SERVICES_APPLICATION']]);
  });
});
