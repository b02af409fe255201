/**
 * Receipts end to end on the REAL local stack (what `npm start` runs: gateway under `wrangler dev`,
 * service and worker on SIMULATED hardware): answers read with the official `openai` SDK carry
 * `x-sealgate-receipt`, streamed and not; the real `sealgate verify-receipt ID --url URL` entry
 * point (a child process) fetches each bundle and accepts it (exit 0); the same bundle with one byte
 * of its receipt altered is refused (exit 1).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eStack, startE2eStack } from './support.js';

let stack: E2eStack;
let client: OpenAI;
const tmp = mkdtempSync(join(tmpdir(), 'sealgate-e2e-receipts-'));

beforeAll(async () => {
  stack = await startE2eStack();
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.apiKey, maxRetries: 0 });
}, 180_000);

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  if (!stack) return;
  const { leftover } = await stack.stop();
  expect(leftover).toEqual([]);
}, 60_000);

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

describe('receipts on the real stack', () => {
  const ids: string[] = [];

  it('a non-streamed answer carries a receipt that verify-receipt --url accepts', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'sealgate-builtin', messages })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    const id = response.headers.get('x-sealgate-receipt')!;
    expect(id).toMatch(/^gw-[0-9a-f]{32}$/);
    ids.push(id);
    const r = await sealgate([
      'verify-receipt',
      id,
      '--url',
      stack.url,
      '--api-key',
      stack.apiKey,
      '--manifest-digest',
      stack.manifestDigest,
      '--allow-simulated',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`VERIFIED: the answer to request ${id}`);
    expect(r.code).toBe(0);
  }, 120_000);

  it('a streamed answer carries a receipt that verify-receipt --url accepts', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'sealgate-builtin', messages, stream: true })
      .withResponse();
    const id = response.headers.get('x-sealgate-receipt')!;
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    ids.push(id);
    const r = await sealgate([
      'verify-receipt',
      id,
      '--url',
      stack.url,
      '--api-key',
      stack.apiKey,
      '--manifest-digest',
      stack.manifestDigest,
      '--allow-simulated',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'verified', claims: { id, stream: true } });
  }, 120_000);

  it('the fetched bundle with one byte of its receipt altered fails (exit 1); no API key: exit 1', async () => {
    const res = await fetch(`${stack.url}/v1/receipts/${ids[0]}`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as { receipt: string };
    const good = join(tmp, 'good.json');
    writeFileSync(good, JSON.stringify(bundle));
    const i = bundle.receipt.length - 10; // inside the signature
    const c = bundle.receipt[i] === 'A' ? 'B' : 'A';
    const bad = join(tmp, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...bundle, receipt: bundle.receipt.slice(0, i) + c + bundle.receipt.slice(i + 1) }),
    );
    const [ok, refused, unauthorized] = await Promise.all([
      sealgate(['verify-receipt', good, '--manifest-digest', stack.manifestDigest, '--allow-simulated']),
      sealgate(['verify-receipt', bad, '--manifest-digest', stack.manifestDigest, '--allow-simulated']),
      sealgate(['verify-receipt', ids[0]!, '--url', stack.url]),
    ]);
    expect(ok.code).toBe(0);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('NOT VERIFIED');
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain('401');
  }, 120_000);
});
