/**
 * `sealgate apikey`: keys are created and revoked in the gateway's KV through the real
 * `wrangler kv key` (local state in a temp folder); only their SHA-256 is stored, and every entry
 * written authenticates under GATEWAY_SECRET as the gateway checks it (kv-auth.ts, `apiKeyEntry`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { hashApiKey } from '../../src/gateway/kv/api-keys.js';
import { openKvEntry, sealKvEntry } from '../../src/gateway/kv/kv-auth.js';

const persist = mkdtempSync(join(tmpdir(), 'sealgate-kv-'));
afterAll(() => rmSync(persist, { recursive: true, force: true }));
const SECRET = 'cli-test-gateway-secret-0123456789abcdef0123';
const secretFile = join(persist, 'gateway-secret');
writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
/** `--local` into the temp state, sealing under SECRET. */
const LOCAL = ['--secret-file', secretFile, '--local', '--persist-to', persist];

/** The value of the entry under `kvKey`, as the gateway opens it (throws if it does not authenticate). */
async function opened(kvKey: string, secret = SECRET): Promise<unknown> {
  return openKvEntry(secret, kvKey, (await kvGet(kvKey))!, 'apiKeyEntry');
}

async function wrangler(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'npx',
    [
      'wrangler',
      'kv',
      'key',
      ...args.slice(0, 1),
      '--binding',
      'SEALGATE_KV',
      '--local',
      '--persist-to',
      persist,
      ...args.slice(1),
    ],
    { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } },
  );
  return stdout;
}

async function kvGet(key: string): Promise<string | null> {
  const stdout = await wrangler('get', key, '--text');
  return stdout.includes('Value not found') ? null : stdout.trim();
}

/** What a writer of the namespace alone can do: put any text under `key`. */
const kvPut = (key: string, text: string) => wrangler('put', key, text);

describe('sealgate apikey', () => {
  it('creates a key shown once, stores only its hash, and revokes it', async () => {
    const created = await runCli(
      ['apikey', 'create', '--name', 'app one', ...LOCAL],
      () => new Date('2026-11-28T00:00:00Z'),
    );
    expect(created.exitCode).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sk-sealgate-[A-Za-z0-9_-]{43}$/);
    const kvKey = `apikey:${await hashApiKey(key)}`;
    expect(await opened(kvKey)).toEqual({
      name: 'app one',
      createdAt: '2026-11-28T00:00:00.000Z',
    });
    expect(created.stderr).not.toContain(key);

    const revoked = await runCli(['apikey', 'revoke', '--key', key, '--local', '--persist-to', persist]);
    expect(revoked.exitCode).toBe(0);
    expect(await kvGet(kvKey)).toBeNull();
  }, 60_000);

  it('creates a key with limits, updates and shows them, and never writes what the gateway would refuse', async () => {
    const target = LOCAL;
    const created = await runCli(
      ['apikey', 'create', '--name', 'app', '--rpm', '60', '--tpm', '10000', ...target],
      () => new Date('2026-12-01T00:00:00Z'),
    );
    expect(created.exitCode).toBe(0);
    const key = created.stdout.trim();
    const kvKey = `apikey:${await hashApiKey(key)}`;
    expect(await opened(kvKey)).toEqual({
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
    const stored = (await opened(kvKey)) as Record<string, unknown>;
    expect(stored.limits).toEqual({ rpm: 60, budgetTokens: 500000, budgetPeriod: 'month' });
    expect(stored.name).toBe('app');

    const shown = await runCli(['apikey', 'show', '--hash', kvKey.slice(7), ...target]);
    expect(shown.exitCode).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(stored);
    expect(shown.stderr).toContain('authenticates under this GATEWAY_SECRET');

    const missing = await runCli(['apikey', 'show', '--hash', 'cd'.repeat(32), ...target]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no such API key');
  }, 120_000);

  it('prints the wrangler command without running it', async () => {
    const r = await runCli(['apikey', 'revoke', '--hash', 'ab'.repeat(32), '--env', 'production', '--print']);
    expect(r.stdout).toBe(
      `npx wrangler kv key delete --binding SEALGATE_KV --env production --remote apikey:${'ab'.repeat(32)}\n`,
    );
    vi.stubEnv('SEALGATE_GATEWAY_SECRET', SECRET);
    const c = await runCli(['apikey', 'create', '--print']).finally(() => vi.unstubAllEnvs());
    const [key, command] = c.stdout.trim().split('\n');
    expect(command).toContain(`apikey:${await hashApiKey(key!)}`);
  });

  it('refuses to write, show or seal without GATEWAY_SECRET, before running wrangler', async () => {
    vi.stubEnv('SEALGATE_GATEWAY_SECRET', '');
    const short = join(persist, 'short-secret');
    writeFileSync(short, 'too-short\n');
    try {
      const hash = ['--hash', 'ab'.repeat(32)];
      for (const argv of [
        ['apikey', 'create', '--env', 'production'],
        ['apikey', 'create', '--print'],
        ['apikey', 'update', ...hash, '--rpm', '60', '--env', 'production'],
        ['apikey', 'show', ...hash, '--env', 'production'],
        ['apikey', 'seal', '--all', '--env', 'production'],
      ]) {
        const r = await runCli(argv);
        expect([argv, r.exitCode]).toEqual([argv, 2]);
        expect(r.stderr).toContain('sealed under GATEWAY_SECRET');
        expect(r.stdout).toBe('');
      }
      const weak = await runCli(['apikey', 'create', '--secret-file', short, '--print']);
      expect(weak.exitCode).toBe(2);
      expect(weak.stderr).toContain('at least 32 characters');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('with --local and no secret given, seals under the local stack’s own (its dev dir’s gateway-secret)', async () => {
    vi.stubEnv('SEALGATE_GATEWAY_SECRET', '');
    vi.stubEnv('SEALGATE_DEV_DIR', persist); // holds `gateway-secret` (SECRET), as npm start's does
    try {
      const created = await runCli(['apikey', 'create', '--name', 'dev', '--local', '--persist-to', persist]);
      expect(created.exitCode, created.stderr).toBe(0);
      expect(await opened(`apikey:${await hashApiKey(created.stdout.trim())}`)).toMatchObject({
        name: 'dev',
      });
      vi.stubEnv('SEALGATE_DEV_DIR', join(persist, 'no-such-dir'));
      const none = await runCli(['apikey', 'create', '--local', '--persist-to', persist]);
      expect(none.exitCode).toBe(2);
      expect(none.stderr).toContain('no-such-dir/gateway-secret was not found');
    } finally {
      vi.unstubAllEnvs();
    }
  }, 60_000);

  it('shows a plain entry as refused, will not update it, and seals it on request', async () => {
    const key = `sk-sealgate-plain-${crypto.randomUUID()}`;
    const kvKey = `apikey:${await hashApiKey(key)}`;
    const value = { name: 'old', createdAt: '2026-01-01T00:00:00.000Z', limits: { tpm: 500 } };
    await kvPut(kvKey, JSON.stringify(value));
    const shown = await runCli(['apikey', 'show', '--key', key, ...LOCAL]);
    expect(shown.exitCode).toBe(1);
    expect(JSON.parse(shown.stdout)).toEqual(value);
    expect(shown.stderr).toContain('does NOT authenticate');
    const updated = await runCli(['apikey', 'update', '--key', key, '--tpm', '900', ...LOCAL]);
    expect(updated.exitCode).toBe(1);
    expect(JSON.parse((await kvGet(kvKey))!)).toEqual(value);

    const sealed = await runCli(['apikey', 'seal', '--key', key, ...LOCAL]);
    expect(sealed.exitCode, sealed.stderr).toBe(0);
    expect(sealed.stdout).toContain('sealed (name "old")');
    expect(await opened(kvKey)).toEqual(value);
    expect((await runCli(['apikey', 'show', '--key', key, ...LOCAL])).exitCode).toBe(0);
    const again = await runCli(['apikey', 'seal', '--key', key, ...LOCAL]);
    expect(again.stdout).toContain('authenticates already');
  }, 120_000);

  it('seal --all re-seals under a rotated secret only what verifies under the old one', async () => {
    const OLD = 'cli-test-previous-secret-0123456789abcdef0123';
    const oldFile = join(persist, 'old-secret');
    writeFileSync(oldFile, OLD);
    const rotated = `apikey:${'1a'.repeat(32)}`;
    const forged = `apikey:${'2b'.repeat(32)}`;
    const plain = `apikey:${'3c'.repeat(32)}`;
    await kvPut(rotated, await sealKvEntry(OLD, rotated, { name: 'rotated' }, 'apiKeyEntry'));
    await kvPut(
      forged,
      await sealKvEntry('a-secret-nobody-here-has-0123456789abcdef', forged, {}, 'apiKeyEntry'),
    );
    await kvPut(plain, JSON.stringify({ name: 'plain' }));

    const withoutOld = await runCli(['apikey', 'seal', '--hash', rotated.slice(7), ...LOCAL]);
    expect(withoutOld.exitCode).toBe(1);
    expect(withoutOld.stdout).toContain('sealed under another secret');

    const all = await runCli(['apikey', 'seal', '--all', '--old-secret-file', oldFile, ...LOCAL]);
    expect(all.exitCode).toBe(1); // the forged entry
    expect(all.stdout).toContain(`${forged.slice(0, 19)}… refused: does not verify under either secret`);
    expect(await opened(rotated)).toEqual({ name: 'rotated' });
    expect(await opened(plain)).toEqual({ name: 'plain' });
    await expect(opened(forged)).rejects.toThrow(/does not verify/);
  }, 180_000);

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
