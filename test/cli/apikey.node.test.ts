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
  ])('usage error %j → exit 2', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
