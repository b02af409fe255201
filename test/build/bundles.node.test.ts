/**
 * `npm run build` (scripts/bundles.ts): the attestation service, the AI worker and the CLI as one
 * ES module each. Two builds give the same bytes; a bundle imports nothing but Node's built-ins
 * and carries no devDependency; written outside the repository (no node_modules to fall back on)
 * and run by plain `node`, the service and the worker attest on the simulator, the worker
 * registers, and both stop cleanly on SIGINT.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bundle, buildBundles, REPO_ROOT } from '../../scripts/bundles.js';
import { writeDevFiles } from '../support/dev-files.js';

interface LockEntry {
  dev?: boolean;
}
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

let bundles: Bundle[];
beforeAll(async () => {
  bundles = await buildBundles();
});

describe('the bundles', () => {
  it('are the same bytes when built twice', async () => {
    const again = await buildBundles();
    expect(again.map((b) => b.file)).toEqual(['attestation-service.mjs', 'ai-worker.mjs', 'sealgate.mjs']);
    for (const [i, b] of again.entries())
      expect(Buffer.from(b.bytes).equals(Buffer.from(bundles[i]!.bytes))).toBe(true);
  });

  it('import only Node built-ins and carry only production dependencies', () => {
    for (const b of bundles) {
      expect(b.externalImports.length).toBeGreaterThan(0);
      expect(
        b.externalImports.filter((name) => !isBuiltin(name)),
        b.file,
      ).toEqual([]);
      expect(b.packages).toContain('node_modules/@noble/hashes'); // the packages are read from the bundle's inputs
      // package-lock.json marks a package that only devDependencies need `dev: true`.
      const devOnly = b.packages.filter((p) => lock.packages[p]?.dev === true);
      const unknown = b.packages.filter((p) => !lock.packages[p]);
      expect({ file: b.file, devOnly, unknown }).toEqual({ file: b.file, devOnly: [], unknown: [] });
    }
  });
});

describe('run by node from outside the repository', () => {
  let dir: string;
  let dev: Awaited<ReturnType<typeof writeDevFiles>>;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dev = await writeDevFiles('sealgate-bundle-');
    dir = await mkdtemp(join(tmpdir(), 'sealgate-dist-'));
    for (const b of bundles) await writeFile(join(dir, b.file), b.bytes);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await rm(dev.dir, { recursive: true, force: true });
  });

  /** Starts `node <file>` in the temporary folder; resolves with its URL and its stderr so far. */
  const start = (file: string, env: Record<string, string>, listening: RegExp) => {
    const child = spawn(process.execPath, [file], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        SEALGATE_PLATFORM: 'simulator',
        SEALGATE_DEV_CHAIN: dev.chainPath,
        SEALGATE_MANIFEST: dev.manifestPath,
        PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    const out = { stderr: '' };
    const url = new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        out.stderr += d.toString();
        const m = listening.exec(out.stderr);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`${file} exited ${code}: ${out.stderr}`)));
    });
    return { child, url, out };
  };
  const stop = async (child: ChildProcess) => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    return exited;
  };

  it('the service and the worker attest on the simulator, the worker registers, both stop on SIGINT', async () => {
    const service = start(
      'attestation-service.mjs',
      {},
      /attestation service listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    const serviceUrl = await service.url;
    const worker = start(
      'ai-worker.mjs',
      { SEALGATE_SERVICE_URL: serviceUrl },
      /AI worker listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    const workerUrl = await worker.url;
    expect(worker.out.stderr).toContain('SIMULATED HARDWARE');
    let health: Record<string, unknown> = {};
    for (let i = 0; i < 100 && health.registered !== true; i++) {
      health = (await (await fetch(`${workerUrl}/healthz`)).json()) as Record<string, unknown>;
      if (health.registered !== true) await new Promise((r) => setTimeout(r, 50));
    }
    expect(health).toMatchObject({
      role: 'worker',
      manifestDigest: dev.env.manifestDigest,
      registered: true,
    });
    expect(await stop(worker.child)).toBe(0);
    expect(await stop(service.child)).toBe(0);
  });

  /** `node <args>` in the temporary folder, to its exit. */
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
      const out = { stdout: '', stderr: '' };
      child.stdout.on('data', (d: Buffer) => {
        out.stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out.stderr += d.toString();
      });
      child.once('exit', (code) => resolve({ code, ...out }));
    });

  it('a configuration error is said once, with the program name, and exits 1', async () => {
    const { code, stderr } = await run(['ai-worker.mjs']);
    expect({ code, stderr }).toEqual({
      code: 1,
      stderr: 'AI worker: SEALGATE_MANIFEST (path of the manifest file) is required\n',
    });
  });

  it('the CLI prints its usage', async () => {
    const { code, stdout } = await run(['sealgate.mjs', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: sealgate <command>\n/);
    expect(stdout).toContain('verify-endpoint URL');
  });
});
