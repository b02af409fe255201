/**
 * The CLI on the real vectors: `manifest pin` then `verify` for every real report set, the
 * exit codes (0 trusted, 1 rejected, 2 usage/unreadable input) and the JSON shape. Commands run
 * in-process through `runCli`; one test runs the real `npm run --silent sealgate` entry point.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { SNP_SETS, vectors } from '../support/vectors.js';

const v = vectors();
const dir = resolve(v.present ? (process.env.SEALGATE_TESTDATA ?? '../shared/testdata') : '.');
const tmp = mkdtempSync(join(tmpdir(), 'sealgate-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface SetInfo {
  report: string;
  cert: string;
  chain: string;
  at: string;
  role: 'worker' | 'attestation-service';
}

function setInfo(name: string): SetInfo {
  const expected = v.json<{
    files: { report: string; endorsement_cert: string; ask_ark_chain: string };
    endorsement_cert: { not_before: string };
  }>(`snp/${name}/expected.json`);
  const at = new Date(Date.parse(expected.endorsement_cert.not_before) + 86_400_000).toISOString();
  const base = join(dir, 'snp', name);
  return {
    report: join(base, expected.files.report),
    cert: join(base, expected.files.endorsement_cert),
    chain: resolve(base, expected.files.ask_ark_chain),
    at,
    role: 'worker',
  };
}

async function pin(s: SetInfo, extra: string[] = []) {
  const r = await runCli([
    'manifest',
    'pin',
    '--report',
    s.report,
    '--cert',
    s.cert,
    '--chain',
    s.chain,
    '--role',
    s.role,
    '--at',
    s.at,
    ...extra,
  ]);
  return r;
}

async function verify(s: SetInfo, manifestPath: string, extra: string[] = []) {
  const r = await runCli([
    'verify',
    ...(extra.includes('--report-data') ? [] : ['--any-report-data']),
    '--report',
    s.report,
    '--cert',
    s.cert,
    '--chain',
    s.chain,
    '--manifest',
    manifestPath,
    '--role',
    s.role,
    ...extra,
  ]);
  return { ...r, json: r.stdout ? JSON.parse(r.stdout) : null };
}

function save(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe.skipIf(!v.present)(
  `sealgate CLI on real evidence${v.present ? '' : ` (skipped: ${v.skipReason})`}`,
  () => {
    it.each(SNP_SETS.filter((s) => s !== 'milan-v2-gosevguest'))(
      '%s: pin, then verify → trusted (exit 0)',
      async (name) => {
        const s = setInfo(name);
        const pinned = await pin(s);
        expect(pinned.exitCode).toBe(0);
        const m = save(`${name}.json`, pinned.stdout);
        const r = await verify(s, m, ['--at', s.at]);
        expect(r.exitCode).toBe(0);
        expect(r.json.verdict).toBe('trusted');
        expect(r.json.violations).toEqual([]);
        const expected = v.json<{ report: { measurement: string; version: number } }>(
          `snp/${name}/expected.json`,
        );
        expect(r.json.claims.measurement).toBe(expected.report.measurement);
        expect(r.json.claims.version).toBe(expected.report.version);
        const digest = await runCli(['manifest', 'digest', m]);
        expect(digest.stdout).toMatch(/^[0-9a-f]{64}\n$/);
        const check = await runCli(['manifest', 'check', m]);
        expect(check.exitCode).toBe(0);
        expect(check.stdout).toBe(`ok ${digest.stdout.trim()} ${JSON.parse(pinned.stdout).name}\n`);
      },
    );

    it('the DEBUG report: pin warns, verify rejects with debug_not_allowed; --allow-debug accepts', async () => {
      const s = setInfo('milan-v2-gosevguest');
      const pinned = await pin(s);
      expect(pinned.exitCode).toBe(0);
      expect(pinned.stderr).toContain('DEBUG');
      const r = await verify(s, save('debug.json', pinned.stdout), ['--at', s.at]);
      expect(r.exitCode).toBe(1);
      expect(r.json.verdict).toBe('rejected');
      expect(r.json.violations.map((x: { code: string }) => x.code)).toEqual(['debug_not_allowed']);
      const allowed = await pin(s, ['--allow-debug']);
      const ok = await verify(s, save('debug-ok.json', allowed.stdout), ['--at', s.at]);
      expect(ok.exitCode).toBe(0);
    });

    it('the AWS VLEK report is trusted at 2024-12-11 and rejected today (expired chain)', async () => {
      const s = { ...setInfo('milan-v3-vlek-aws-trustee'), at: '2024-12-11T00:00:00Z' };
      const m = save('vlek.json', (await pin(s)).stdout);
      expect((await verify(s, m, ['--at', '2024-12-11'])).exitCode).toBe(0);
      const today = await verify(s, m, ['--at', '2026-11-28']);
      expect(today.exitCode).toBe(1);
      expect(today.json.violations.map((x: { code: string }) => x.code)).toContain('cert_expired');
      // --at defaults to now: the same rejection without the flag
      const now = await verify(s, m);
      expect(now.exitCode).toBe(1);
    });

    it('checks REPORT_DATA when given', async () => {
      const s = setInfo('turin-v5-oak');
      const m = save('turin.json', (await pin(s)).stdout);
      const expected = v.json<{ report: { report_data: string } }>('snp/turin-v5-oak/expected.json');
      expect(
        (await verify(s, m, ['--at', s.at, '--report-data', expected.report.report_data])).exitCode,
      ).toBe(0);
      const wrong = await verify(s, m, ['--at', s.at, '--report-data', '00'.repeat(64)]);
      expect(wrong.exitCode).toBe(1);
      expect(wrong.json.violations.map((x: { code: string }) => x.code)).toEqual(['report_data_mismatch']);
    });

    it('a manifest pinned for one report rejects another (measurement, TCB, chip)', async () => {
      const a = setInfo('milan-v2-virtee');
      const b = setInfo('milan-v2-idblock-trustee');
      const m = save('a.json', (await pin(a)).stdout);
      const r = await verify(b, m, ['--at', b.at]);
      expect(r.exitCode).toBe(1);
      expect(r.json.violations.map((x: { code: string }) => x.code)).toContain('measurement_not_allowed');
    });

    it('refuses to pin evidence that does not verify (wrong product chain), exit 1', async () => {
      const s = { ...setInfo('milan-v2-virtee'), chain: join(dir, 'amd-roots', 'ask_ark_genoa.pem') };
      const r = await pin(s);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('refusing to pin evidence that does not verify');
    });

    it.each([
      [['verify'], 'missing --report'],
      [
        ['verify', '--report', 'x', '--cert', 'y', '--manifest', 'z', '--role', 'gateway'],
        '--role must be one of',
      ],
      [
        ['verify', '--report', 'x', '--cert', 'y', '--manifest', 'z', '--role', 'worker'],
        'give --report-data HEX, or --any-report-data',
      ],
      [
        [
          'verify',
          '--report',
          'x',
          '--cert',
          'y',
          '--manifest',
          'z',
          '--role',
          'worker',
          '--any-report-data',
          '--report-data',
          '00',
        ],
        'give --report-data HEX, or --any-report-data',
      ],
      [['nope'], 'unknown command nope'],
      [['manifest'], 'missing subcommand'],
      [['manifest', 'digest'], 'expected 1 argument'],
    ])('usage error %j → exit 2', async (argv, message) => {
      const r = await runCli(argv);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(message);
    });

    it('unreadable input → exit 2 with the path', async () => {
      const s = setInfo('milan-v2-virtee');
      const m = save('ok.json', (await pin(s)).stdout);
      const missing = await runCli([
        'verify',
        '--any-report-data',
        '--report',
        join(tmp, 'nope.bin'),
        '--cert',
        s.cert,
        '--chain',
        s.chain,
        '--manifest',
        m,
        '--role',
        'worker',
      ]);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toContain('nope.bin (ENOENT)');
      const badManifest = await runCli([
        'verify',
        '--any-report-data',
        '--report',
        s.report,
        '--cert',
        s.cert,
        '--chain',
        s.chain,
        '--manifest',
        save('bad.json', '{"version":2}'),
        '--role',
        'worker',
      ]);
      expect(badManifest.exitCode).toBe(2);
      expect(badManifest.stderr).toContain('/version: expected 1');
      const badCert = await runCli([
        'verify',
        '--any-report-data',
        '--report',
        s.report,
        '--cert',
        s.report,
        '--chain',
        s.chain,
        '--manifest',
        m,
        '--role',
        'worker',
      ]);
      expect(badCert.exitCode).toBe(2);
      expect(badCert.stderr).toContain('--cert');
      const check = await runCli(['manifest', 'check', save('bad2.json', '{"version":1}')]);
      expect(check.exitCode).toBe(1);
      expect(check.stderr).toContain('/name: required field missing');
    });

    it('a report that is not a report is rejected (exit 1, report_malformed), not a crash', async () => {
      const s = setInfo('milan-v2-virtee');
      const m = save('ok2.json', (await pin(s)).stdout);
      const r = await runCli([
        'verify',
        '--any-report-data',
        '--report',
        s.cert,
        '--cert',
        s.cert,
        '--chain',
        s.chain,
        '--manifest',
        m,
        '--role',
        'worker',
        '--at',
        s.at,
      ]);
      expect(r.exitCode).toBe(1);
      expect(JSON.parse(r.stdout).violations[0].code).toBe('report_malformed');
    });

    it('the real entry point: npm run --silent sealgate', async () => {
      const s = setInfo('genoa-v3-azure-trustee');
      const m = save('genoa.json', (await pin(s)).stdout);
      const run = promisify(execFile);
      const { stdout } = await run('npm', [
        'run',
        '--silent',
        'sealgate',
        '--',
        'verify',
        '--any-report-data',
        '--report',
        s.report,
        '--cert',
        s.cert,
        '--chain',
        s.chain,
        '--manifest',
        m,
        '--role',
        'worker',
        '--at',
        s.at,
      ]);
      expect(JSON.parse(stdout).verdict).toBe('trusted');
      const bad = await run('npm', ['run', '--silent', 'sealgate', '--', 'verify']).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect((bad as { code: number }).code).toBe(2);
      expect((bad as { stderr: string }).stderr).toContain('missing --report');
    });
  },
);
