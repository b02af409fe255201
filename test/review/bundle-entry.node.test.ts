/**
 * The bundles (scripts/bundles.ts) as a VM image starts them. Found: run through a
 * symlink (`/usr/bin/ai-worker` → the bundle), the service and the worker exited 0 having done
 * nothing, without a word — `runIfMain` compared `argv[1]` as given with the module's real path
 * (src/dev/program-config.ts). Each bundle is written outside the repository and run by plain
 * `node` without configuration: it must say what is missing and exit 1, whatever path it is run by.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles } from '../../scripts/bundles.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-review-bundle-'));
  for (const b of await buildBundles()) await writeFile(join(dir, b.file), b.bytes);
  await symlink(join(dir, 'ai-worker.mjs'), join(dir, 'ai-worker'));
  await symlink(join(dir, 'attestation-service.mjs'), join(dir, 'attestation-service'));
  await symlink(dir, join(dir, 'via'));
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `node <path>` in `cwd` with an empty environment (PATH aside): exit code and stderr. */
function run(path: string, cwd = dir): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path], { cwd, env: { PATH: process.env.PATH ?? '' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a bundle started without configuration', () => {
  const cases: [string, string, string][] = [
    ['the worker by its own path', 'ai-worker.mjs', 'AI worker: SEALGATE_MANIFEST'],
    ['the worker through a symlink', 'ai-worker', 'AI worker: SEALGATE_MANIFEST'],
    ['the worker through a symlinked folder', 'via/ai-worker.mjs', 'AI worker: SEALGATE_MANIFEST'],
    ['the service through a symlink', 'attestation-service', 'attestation service: SEALGATE_MANIFEST'],
  ];
  it.each(cases)('%s: names what is missing and exits 1', async (_label, path, message) => {
    const { code, stderr } = await run(path);
    expect({ code, stderr: stderr.split('\n')[0] }).toEqual({
      code: 1,
      stderr: expect.stringContaining(message),
    });
  });

  it('the CLI through a relative path: its usage, not a service', async () => {
    const { code, stderr } = await run('./sealgate.mjs');
    expect(code).not.toBe(0);
    expect(stderr).not.toContain('SEALGATE_MANIFEST');
  });
});
