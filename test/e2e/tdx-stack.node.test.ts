/**
 * `npm start` on SIMULATED Intel TDX (`SEALGATE_TEE=tdx`: src/dev/stack.ts with `tee: 'tdx'`), end
 * to end through the REAL gateway under `wrangler dev`: the key-rotation Durable Object attests the
 * service's TDX quote (collateral verified to the dev manifest's simulated SGX root), the TDX worker
 * attests to the service with its SIMULATED NVIDIA GPU (the manifest requires one; the service asks
 * the stack's simulated OCSP responder), and a chat completion sealed by the gateway comes back answered and
 * marked simulated; `/v1/attestation`, the verification page and the real `sealgate verify-endpoint`
 * show the TD's claims. The manifest is the TDX dev manifest: roles accept only TDX.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_START_MS, E2E_STOP_MS, type E2eStack, startE2eStack, stopE2eStack } from './support.js';

let stack: E2eStack;

/** The real CLI entry point (`npm run sealgate` runs this same script). */
function sealgate(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'scripts/sealgate.ts', ...args],
      { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, SEALGATE_API_KEY: '' } },
      (error, stdout) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout }),
    );
  });
}

beforeAll(async () => {
  stack = await startE2eStack({ tee: 'tdx', gpus: 1 });
}, E2E_START_MS);

afterAll(() => stopE2eStack(stack), E2E_STOP_MS);

describe('the local stack on SIMULATED Intel TDX', () => {
  it('a chat completion through the gateway is answered by the TDX worker', async () => {
    expect(stack.gpuOcspUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+/); // the GPU's revocation is checked
    const response = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sealgate-builtin', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-sealgate-simulated')).toBe('1');
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]!.message.content).toBe('You said: "hello" Backwards: "hello"');
  });

  it('/v1/attestation shows the service as a TD: MRTD, TCB status, SIMULATED', async () => {
    const response = await fetch(`${stack.url}/v1/attestation`);
    expect(response.status).toBe(200);
    const a = (await response.json()) as {
      tee: string;
      simulated: boolean;
      violations: string[];
      status: string;
      tdx: { mrTd: string; tcbStatus: string; tdxModule: string; rtmrs: string[] };
    };
    expect(a.tee).toBe('tdx');
    expect(a.simulated).toBe(true);
    expect(a.violations).toEqual([]);
    expect(a.status).toBe('warning'); // SIMULATED hardware: never affirming
    expect(a.tdx.tcbStatus).toBe('UpToDate');
    expect(a.tdx.tdxModule).toBe('TDX_01');
    expect(a.tdx.mrTd).toMatch(/^[0-9a-f]{96}$/);
    expect(a.tdx.rtmrs).toHaveLength(4);
  });

  it('the verification page shows the MRTD, the TCB status and the RTMRs; its banner names TDX', async () => {
    const response = await fetch(`${stack.url}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('VERIFIED — ON SIMULATED HARDWARE');
    expect(html).toContain('attestation service MRTD');
    expect(html).toContain('Product Intel TDX');
    expect(html).toMatch(/data-testid="tdx-tcb-status">UpToDate</);
    expect(html).toContain('TDX_01');
    expect(html).toContain('RTMR3');
    expect(html).toContain('this stack runs on a software simulator of Intel TDX.');
    // The TD worker's MRTD is held to the role's tdx.mrTd, as verify-endpoint holds it.
    expect(html).toContain('<table id="workers">');
    expect(html).not.toContain('does not match');
    expect(html).not.toContain('AMD SEV-SNP');
  });

  it('sealgate verify-endpoint checks the TD and says so (exit 3: unpinned, every link holds)', async () => {
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        'npx',
        ['tsx', 'scripts/sealgate.ts', 'verify-endpoint', stack.url, '--allow-simulated'],
        { env: { ...process.env, SEALGATE_API_KEY: '' } },
        (error, stdout) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout }),
      );
    });
    expect(out.stdout).not.toContain('✘');
    expect(out.stdout).toContain('an Intel TDX quote (v4)');
    expect(out.stdout).toContain('(the SIMULATED development root the manifest names)');
    expect(out.stdout).toMatch(/the service's MRTD [0-9a-f]{96} is one the manifest allows/);
    expect(out.stdout).toContain('TDX TCB status UpToDate (no advisories), module TDX_01');
    expect(out.stdout).toContain('the evidence comes from a software simulator, not from Intel TDX.');
    expect(out.stdout).not.toContain('SEV-SNP');
    expect(out.code).toBe(3);
  }, 60_000);

  it('the answer carries a receipt that verify-receipt --url accepts, naming the TD and the GPU', async () => {
    const response = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sealgate-builtin', messages: [{ role: 'user', content: 'receipt' }] }),
    });
    expect(response.status).toBe(200);
    await response.text();
    const id = response.headers.get('x-sealgate-receipt')!;
    expect(id).toMatch(/^gw-[0-9a-f]{32}$/);
    // The receipt the client keeps (x-sealgate-receipt-data; nothing is stored in KV by default).
    const file = join(mkdtempSync(join(tmpdir(), 'sealgate-tdx-receipt-')), 'receipt.json');
    writeFileSync(file, response.headers.get('x-sealgate-receipt-data')!);
    const out = await sealgate([
      'verify-receipt',
      file,
      '--url',
      stack.url,
      '--api-key',
      stack.apiKey,
      '--manifest-digest',
      stack.manifestDigest,
      '--allow-simulated',
    ]);
    expect(out.stdout).toContain("the service's SIMULATED Intel TDX evidence verifies");
    // The worker that answered was attested with its GPU: its certificate names it.
    expect(out.stdout).toMatch(/attested GPUs: GPU 0 hopper driver \S+ VBIOS \S+ measurements [0-9a-f]{64}/);
    expect(out.stdout).toContain(`VERIFIED: the answer to request ${id}`);
    expect(out.code).toBe(0);
  }, 60_000);
});
