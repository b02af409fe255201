/**
 * `tsx src/ai-worker/main.ts` with a model endpoint its manifest does not allow: the process exits
 * non-zero with a message naming MODEL_URL and the manifest field, before it listens and before it
 * attests. `model.invalid` is a reserved name (RFC 6761 §6.4) and the refusal comes before any
 * connection, so nothing leaves the machine; the service URL is a loopback port nobody serves.
 *
 * "Before it listens" is shown three ways: the worker's port (chosen free, passed as PORT) refuses
 * connections after the exit; the log has no "AI worker listening" line; and nothing was attested
 * (no "attested" line — the service port is closed anyway).
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../e2e/support.js';
import { writeDevFiles } from '../support/dev-files.js';

let dir: string;
let chainPath: string;
let manifestPath: string;

beforeAll(async () => {
  ({ dir, chainPath, manifestPath } = await writeDevFiles('sealgate-modelcfg-'));
}, 240_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function runWorker(extra: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['src/ai-worker/main.ts'], {
    env: {
      ...process.env,
      SEALGATE_PLATFORM: 'simulator',
      SEALGATE_DEV_CHAIN: chainPath,
      SEALGATE_MANIFEST: manifestPath,
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

describe('main.ts refuses a model endpoint the manifest does not allow', () => {
  it('MODEL_URL=http://model.invalid:8000 under the default rules: exit 1 before listening', async () => {
    const [port, servicePort] = (await freePorts(2)) as [number, number];
    const { code, stderr } = await runWorker({
      MODEL_URL: 'http://model.invalid:8000',
      PORT: String(port),
      SEALGATE_SERVICE_URL: `http://127.0.0.1:${servicePort}`,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(
      'AI worker: MODEL_URL http://model.invalid:8000 is not allowed by the manifest: /roles/worker/model is absent, so only "builtin" and "loopback" (127.0.0.0/8, [::1]) are allowed',
    );
    expect(stderr).not.toContain('AI worker listening');
    expect(stderr).not.toContain('attested');
    expect(await connects(port)).toBe(false);
  }, 90_000);

  it('MODEL_API_KEY under the default apiKey "forbidden": exit 1 naming the setting and the field', async () => {
    const [port, servicePort] = (await freePorts(2)) as [number, number];
    const { code, stderr } = await runWorker({
      MODEL_URL: 'http://127.0.0.1:8000',
      MODEL_API_KEY: 'sk-test',
      PORT: String(port),
      SEALGATE_SERVICE_URL: `http://127.0.0.1:${servicePort}`,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(
      `AI worker: MODEL_API_KEY is set but the manifest's /roles/worker/model/apiKey is not "allowed"`,
    );
    expect(stderr).not.toContain('sk-test');
    expect(await connects(port)).toBe(false);
  }, 90_000);
});
