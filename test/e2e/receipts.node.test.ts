/**
 * Receipts end to end on the REAL local stack (what `npm start` runs: gateway under `wrangler dev`,
 * service and worker on SIMULATED hardware, receipt storage off as by default): a JSON answer read
 * with the official `openai` SDK carries its kept receipt in `x-sealgate-receipt-data`, a stream as
 * its last comment line; the real `sealgate verify-receipt FILE --url URL` entry point (a child
 * process) fetches the service evidence each names and accepts it (exit 0); one byte of the receipt
 * altered is refused (exit 1); nothing was stored (`GET /v1/receipts/{id}` says storage is off).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_START_MS, E2E_STOP_MS, type E2eStack, startE2eStack, stopE2eStack } from './support.js';

let stack: E2eStack;
let client: OpenAI;
const tmp = mkdtempSync(join(tmpdir(), 'sealgate-e2e-receipts-'));

beforeAll(async () => {
  stack = await startE2eStack();
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.apiKey, maxRetries: 0 });
}, E2E_START_MS);

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await stopE2eStack(stack);
}, E2E_STOP_MS);

/** The real CLI entry point (`npm run sealgate` runs this same script). */
function sealgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'scripts/sealgate.ts', ...args],
      { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, SEALGATE_API_KEY: '' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

const messages = [{ role: 'user' as const, content: 'Is this thing on?' }];

describe('receipts on the real stack (RECEIPT_STORAGE off: the default)', () => {
  const kept: string[] = [];
  const args = ['--url', '', '--api-key', '', '--manifest-digest', '', '--allow-simulated'];
  const verifyArgs = () => {
    args[1] = stack.url;
    args[3] = stack.apiKey;
    args[5] = stack.manifestDigest;
    return args;
  };

  it('a non-streamed answer carries its receipt in a header; verify-receipt FILE --url accepts it', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'sealgate-builtin', messages })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    const id = response.headers.get('x-sealgate-receipt')!;
    expect(id).toMatch(/^gw-[0-9a-f]{32}$/);
    const header = response.headers.get('x-sealgate-receipt-data')!;
    kept.push(header);
    const file = join(tmp, 'kept.json');
    writeFileSync(file, header);
    const r = await sealgate(['verify-receipt', file, ...verifyArgs()]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`VERIFIED: the answer to request ${id}`);
    expect(r.code).toBe(0);
    // Nothing was stored: the id route says why.
    const stored = await fetch(`${stack.url}/v1/receipts/${id}`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    expect(stored.status).toBe(404);
    expect(await stored.text()).toContain('RECEIPT_STORAGE is off');
  }, 120_000);

  it('a streamed answer carries it as its last comment line; the saved stream verifies', async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sealgate-builtin', messages, stream: true }),
    });
    const id = res.headers.get('x-sealgate-receipt')!;
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const file = join(tmp, 'stream.txt');
    writeFileSync(file, text);
    const r = await sealgate(['verify-receipt', file, ...verifyArgs(), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'verified', claims: { id, stream: true } });
  }, 120_000);

  it('the kept receipt with one byte of its signature altered fails (exit 1); no API key: exit 1', async () => {
    const good = JSON.parse(kept[0]!) as { receipt: string };
    const i = good.receipt.length - 10; // inside the signature
    const c = good.receipt[i] === 'A' ? 'B' : 'A';
    const bad = join(tmp, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...good, receipt: good.receipt.slice(0, i) + c + good.receipt.slice(i + 1) }),
    );
    const noKey = join(tmp, 'nokey.json');
    writeFileSync(noKey, kept[0]!);
    const [refused, unauthorized] = await Promise.all([
      sealgate(['verify-receipt', bad, ...verifyArgs()]),
      sealgate(['verify-receipt', noKey, '--url', stack.url]),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('NOT VERIFIED');
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain('401');
  }, 120_000);
});
