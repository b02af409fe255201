/**
 * `sealgate apikey`: keys are created and revoked in the gateway's KV through the real
 * `wrangler kv key` (local state in a temp folder), and only their SHA-256 is stored.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { hashApiKey } from '../../src/gateway/kv/api-keys.js';

const persist = mkdtempSync(join(tmpdir(), 'sealgate-kv-'));
afterAll(() => rmSync(persist, { recursive: true, force: true }));

async function kvGet(key: string): Promise<string | null> {
  const { stdout } = await promisify(execFile)(
    'npx',
    [
      'wrangler',
      'kv',
      'key',
      'get',
      '--binding',
      'SEALGATE_KV',
      '--local',
      '--persist-to',
      persist,
      key,
      '--text',
    ],
    { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } },
  );
  return stdout.includes('Value not found') ? null : stdout.trim();
}

describe('sealgate apikey', () => {
  it('creates a key shown once, stores only its hash, and revokes it', async () => {
    const created = await runCli(
      ['apikey', 'create', '--name', 'app one', '--local', '--persist-to', persist],
      () => new Date('2026-11-28T00:00:00Z'),
    );
    expect(created.exitCode).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sk-sealgate-[A-Za-z0-9_-]{43}$/);
    const kvKey = `apikey:${await hashApiKey(key)}`;
    expect(JSON.parse((await kvGet(kvKey))!)).toEqual({
      name: 'app one',
      createdAt: '2026-11-28T00:00:00.000Z',
    });
    expect(created.stderr).not.toContain(key);

    const revoked = await runCli(['apikey', 'revoke', '--key', key, '--local', '--persist-to', persist]);
    expect(revoked.exitCode).toBe(0);
    expect(await kvGet(kvKey)).toBeNull();
  }, 60_000);

  it('creates a key with limits, updates and shows them, and never writes what the gateway would refuse', async () => {
    const target = ['--local', '--persist-to', persist];
    const created = await runCli(
      ['apikey', 'create', '--name', 'app', '--rpm', '60', '--tpm', '10000', ...target],
      () => new Date('2026-12-01T00:00:00Z'),
    );
    expect(created.exitCode).toBe(0);
    const key = created.stdout.trim();
    const kvKey = `apikey:${await hashApiKey(key)}`;
    expect(JSON.parse((await kvGet(kvKey))!)).toEqual({
      name: 'app',
      createdAt: '2026-12-01T00:00:00.000Z',
      limits: { rpm: 60, tpm: 10000 },
    });

    const updated = await runCli([
      'apikey',
      'update',
      '--key',
      key,
      '--tpm',
      'none',
      '--budget-tokens',
      '500000',
      '--budget-period',
      'month',
      ...target,
    ]);
    expect(updated.exitCode).toBe(0);
    const stored = JSON.parse((await kvGet(kvKey))!);
    expect(stored.limits).toEqual({ rpm: 60, budgetTokens: 500000, budgetPeriod: 'month' });
    expect(stored.name).toBe('app');

    const shown = await runCli(['apikey', 'show', '--hash', kvKey.slice(7), ...target]);
    expect(shown.exitCode).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(stored);

    const missing = await runCli(['apikey', 'show', '--hash', 'cd'.repeat(32), ...target]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no such API key');
  }, 120_000);

  it('prints the wrangler command without running it', async () => {
    const r = await runCli(['apikey', 'revoke', '--hash', 'ab'.repeat(32), '--env', 'production', '--print']);
    expect(r.stdout).toBe(
      `npx wrangler kv key delete --binding SEALGATE_KV --env production --remote apikey:${'ab'.repeat(32)}\n`,
    );
    const c = await runCli(['apikey', 'create', '--print']);
    const [key, command] = c.stdout.trim().split('\n');
    expect(command).toContain(`apikey:${await hashApiKey(key!)}`);
  });

  it.each([
    [['apikey'], 'missing subcommand'],
    [['apikey', 'revoke'], 'exactly one of --key or --hash'],
    [['apikey', 'revoke', '--hash', 'XYZ'], '--hash: 64 lower-case hex'],
    [['apikey', 'create', '--persist-to', '/tmp/x'], '--persist-to goes with --local'],
    [['apikey', 'create', '--rpm', '100'], '--rpm: one of 6, 12, 30, 60'],
    [['apikey', 'create', '--tpm', '0'], '--tpm: a positive whole number'],
    [['apikey', 'create', '--budget-tokens', '10'], '--budget-tokens and --budget-period go together'],
    [
      ['apikey', 'create', '--budget-tokens', '10', '--budget-period', 'week'],
      '--budget-period: day or month',
    ],
    [['apikey', 'create', '--rpm', 'none'], '--rpm: a positive whole number'],
    [['apikey', 'update', '--rpm', '60'], 'exactly one of --key or --hash'],
    [['apikey', 'show', '--hash', 'ab'.repeat(32), '--rpm', '60'], 'rpm'],
  ])('usage error %j → exit 2', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
