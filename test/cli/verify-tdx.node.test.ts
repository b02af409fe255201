/**
 * `sealgate verify-tdx` as a black box on the real TDX sets: exit 0 verified, 1 rejected with every
 * violation listed, 2 usage or unreadable input; text and --json output. Sets without a
 * collateral.json get one made from their split PCS files in a temporary directory (never in the repo).
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { runCli } from '../../src/cli/main.js';
import { collateralText, TDX_SETS, type TdxSetName, v } from '../verify/tdx/support.js';

const dir = resolve(process.env.SEALGATE_TESTDATA ?? '../shared/testdata', 'tdx');
const tmp = mkdtempSync(join(tmpdir(), 'sealgate-tdx-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function files(set: TdxSetName): { quote: string; collateral: string; at: string } {
  const collateral = join(tmp, `${set}.collateral.json`);
  writeFileSync(collateral, collateralText(set));
  return { quote: join(dir, set, 'quote.bin'), collateral, at: TDX_SETS[set].at };
}

interface JsonOut {
  verdict: string;
  tcbStatus: string | null;
  advisoryIds: string[];
  violations: { code: string }[];
  quote: { version: number; bodyType: string; reportData: string } | null;
}

async function verifyJson(
  set: TdxSetName,
  extra: string[] = [],
): Promise<{ exitCode: number; out: JsonOut }> {
  const f = files(set);
  const r = await runCli([
    'verify-tdx',
    '--quote',
    f.quote,
    '--collateral',
    f.collateral,
    '--at',
    f.at,
    '--json',
    ...extra,
  ]);
  return { exitCode: r.exitCode, out: JSON.parse(r.stdout) as JsonOut };
}

/** `manifest pin --tdx-quote` of a set's quote and collateral for the worker role, at its time. */
const pinArgs = (f: { quote: string; collateral: string; at: string }) => [
  'manifest',
  'pin',
  '--tdx-quote',
  f.quote,
  '--collateral',
  f.collateral,
  '--role',
  'worker',
  '--at',
  f.at,
];
const codesOf = (o: JsonOut): string[] => [...new Set(o.violations.map((x) => x.code))].sort();

describe.skipIf(!v.present)(`sealgate verify-tdx on the real sets ${v.skipReason}`, () => {
  it('phala-v4-uptodate: exit 0, UpToDate, no advisories', async () => {
    const { exitCode, out } = await verifyJson('phala-v4-uptodate');
    expect(exitCode).toBe(0);
    expect(out.verdict).toBe('verified');
    expect(out.tcbStatus).toBe('UpToDate');
    expect(out.advisoryIds).toEqual([]);
    expect(out.violations).toEqual([]);
    expect(out.quote?.version).toBe(4);
  });

  it('phala-v5-no-tcb-match: exit 1, no TCB level', async () => {
    const { exitCode, out } = await verifyJson('phala-v5-no-tcb-match');
    expect(exitCode).toBe(1);
    expect(codesOf(out)).toEqual(['tcb_level_not_found']);
    expect(out.quote?.version).toBe(5);
  });

  it('trustee-v4-outofdate: exit 1, OutOfDate, and the missing CRLs listed', async () => {
    const { exitCode, out } = await verifyJson('trustee-v4-outofdate');
    expect(exitCode).toBe(1);
    expect(out.tcbStatus).toBe('OutOfDate');
    expect(codesOf(out)).toEqual(['crl_invalid', 'tcb_status_not_allowed']);
  });

  it('google-spr-e4-v4: exit 1, CRLs verify, no TCB level', async () => {
    const { exitCode, out } = await verifyJson('google-spr-e4-v4');
    expect(exitCode).toBe(1);
    expect(codesOf(out)).toEqual(['tcb_level_not_found']);
  });

  it('google-v5-tdx15: exit 1, a TDX 1.5 body UpToDate, a stale QE identity and no CRLs', async () => {
    const { exitCode, out } = await verifyJson('google-v5-tdx15');
    expect(exitCode).toBe(1);
    expect(out.quote?.bodyType).toBe('tdx15');
    expect(out.tcbStatus).toBe('UpToDate');
    expect(codesOf(out)).toEqual(['collateral_expired', 'crl_invalid']);
  });

  it('--report-data: equal verifies, different rejects', async () => {
    const e = v.json<{ quote: { body: { report_data: { hex: string } } } }>(
      'tdx/phala-v4-uptodate/expected.json',
    );
    const hex = e.quote.body.report_data.hex;
    expect((await verifyJson('phala-v4-uptodate', ['--report-data', hex])).exitCode).toBe(0);
    const other = `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;
    const r = await verifyJson('phala-v4-uptodate', ['--report-data', other]);
    expect(r.exitCode).toBe(1);
    expect(codesOf(r.out)).toEqual(['report_data_mismatch']);
  });

  it('text output names the status and every violation', async () => {
    const f = files('trustee-v4-outofdate');
    const r = await runCli(['verify-tdx', '--quote', f.quote, '--collateral', f.collateral, '--at', f.at]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('tcb status: OutOfDate');
    expect(r.stdout).toContain('violation crl_invalid: pckCrl: missing');
    expect(r.stdout).toContain('violation tcb_status_not_allowed');
  });

  it('a truncated quote is rejected (exit 1), an unreadable or ill-shaped input is exit 2', async () => {
    const f = files('phala-v4-uptodate');
    const short = join(tmp, 'short.bin');
    writeFileSync(short, v.bytes('tdx/phala-v4-uptodate/quote.bin').slice(0, 700));
    const truncated = await runCli([
      'verify-tdx',
      '--quote',
      short,
      '--collateral',
      f.collateral,
      '--at',
      f.at,
      '--json',
    ]);
    expect(truncated.exitCode).toBe(1);
    expect(JSON.parse(truncated.stdout).violations[0].code).toBe('quote_malformed');
    const garbage = join(tmp, 'garbage.json');
    writeFileSync(garbage, '{"tcb_info": 1}');
    for (const argv of [
      ['verify-tdx', '--quote', f.quote],
      ['verify-tdx', '--quote', join(tmp, 'missing.bin'), '--collateral', f.collateral],
      ['verify-tdx', '--quote', f.quote, '--collateral', garbage],
      ['verify-tdx', '--quote', f.quote, '--collateral', f.collateral, '--at', 'yesterday'],
      ['verify-tdx', '--quote', f.quote, '--collateral', f.collateral, '--report-data', 'ab'],
      [
        'verify-tdx',
        '--quote',
        f.quote,
        '--collateral',
        f.collateral,
        '--report-data',
        '00'.repeat(64),
        '--any-report-data',
      ],
    ]) {
      const r = await runCli(argv);
      expect(r.exitCode, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^sealgate: /);
    }
  });

  it('manifest pin --tdx-quote pins a verified TD; verify-tdx --manifest then accepts it and nothing else', async () => {
    const f = files('phala-v4-uptodate');
    const pinned = await runCli(pinArgs(f));
    expect(pinned.exitCode).toBe(0);
    const manifest = JSON.parse(pinned.stdout);
    expect(Object.keys(manifest.roles.worker)).toEqual(['tdx']);
    expect(manifest.roles.worker.tdx.mrTd).toEqual([
      '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7',
    ]);
    const path = join(tmp, 'pinned-tdx.json');
    writeFileSync(path, pinned.stdout);
    const ok = await verifyJson('phala-v4-uptodate', ['--manifest', path, '--role', 'worker']);
    expect(ok.exitCode).toBe(0);
    const wrongRole = await verifyJson('phala-v4-uptodate', [
      '--manifest',
      path,
      '--role',
      'attestation-service',
    ]);
    expect(codesOf(wrongRole.out)).toEqual(['role_unknown']);
    const other = await verifyJson('google-v5-tdx15', ['--manifest', path, '--role', 'worker']);
    expect(other.exitCode).toBe(1);
    const refused = files('phala-v5-no-tcb-match');
    const r = await runCli(pinArgs(refused));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('tcb_level_not_found');
    const usage = await runCli([
      'verify-tdx',
      '--quote',
      f.quote,
      '--collateral',
      f.collateral,
      '--manifest',
      path,
    ]);
    expect(usage.exitCode).toBe(2);
  });

  it('manifest pin --tdx-quote takes --gateway-key, and warns without it, as the SEV-SNP pin does', async () => {
    const f = files('phala-v4-uptodate');
    const argv = pinArgs(f);
    const bare = await runCli(argv);
    expect(bare.exitCode).toBe(0);
    expect(bare.stderr).toContain(
      'no --gateway-key: an attestation service refuses to start on this manifest',
    );
    const key = toHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    const keyed = await runCli([...argv, '--gateway-key', key]);
    expect(keyed.exitCode).toBe(0);
    expect(keyed.stderr ?? '').not.toContain('--gateway-key');
    expect(JSON.parse(keyed.stdout).gateway.uploadKey).toBe(key);
    expect(JSON.parse(keyed.stdout).roles.worker).toEqual(JSON.parse(bare.stdout).roles.worker);
  });

  it('runs through the real entry point (npm run --silent sealgate)', async () => {
    const f = files('phala-v4-uptodate');
    const { stdout } = await promisify(execFile)(
      'npm',
      [
        'run',
        '--silent',
        'sealgate',
        '--',
        'verify-tdx',
        '--quote',
        f.quote,
        '--collateral',
        f.collateral,
        '--at',
        f.at,
      ],
      { cwd: resolve(import.meta.dirname, '../..') },
    );
    expect(stdout).toContain('verdict: verified');
    expect(stdout).toContain('tcb status: UpToDate');
  });
});
