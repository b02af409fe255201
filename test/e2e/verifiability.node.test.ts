/**
 * Verifiability end to end on the REAL local stack (`startStack`: gateway under `wrangler dev`,
 * attestation service and AI worker on SIMULATED hardware):
 *
 * - a skeptic with only curl gets fresh evidence for their nonce and the manifest, no API key;
 * - `sealgate verify-endpoint URL --allow-simulated` exits 3 on first use, 0 with the manifest pinned, and
 *   exits 1 when the pinned manifest differs in ONE measurement;
 * - the verification page at `/` in headless Chromium (Debian's /usr/bin/chromium driven by
 *   playwright-core): the verdict, the SIMULATED banner, the measurements; a screenshot is saved
 *   to .artifacts/verification-page.png. Skipped, with the reason, where Chromium is missing.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { runCli } from '../../src/cli/main.js';
import { curl, E2E_START_MS, E2E_STOP_MS, type E2eStack, startE2eStack, stopE2eStack } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`[sealgate] ${CHROMIUM} is missing: the verification page test is skipped`);
const ARTIFACTS = join(import.meta.dirname, '..', '..', '.artifacts');

let stack: E2eStack;
let manifestText: string;

beforeAll(async () => {
  stack = await startE2eStack();
  const res = await curl([`${stack.url}/v1/manifest`]);
  manifestText = (JSON.parse(res.stdout) as { manifest: string }).manifest;
}, E2E_START_MS);

afterAll(() => stopE2eStack(stack), E2E_STOP_MS);

describe('curl only', () => {
  it('fresh evidence bound to the caller’s nonce, the manifest and a signed EAR — no API key', async () => {
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const res = await curl(['-f', `${stack.url}/v1/attestation?nonce=${nonce}`]);
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(body.nonce).toBe(nonce);
    expect(body.manifestDigest).toBe(stack.manifestDigest);
    expect(body.status).toBe('warning');
    expect(typeof body.ear).toBe('string');
    expect((body.evidence as { role: string }).role).toBe('attestation-service');
  });
});

describe('sealgate verify-endpoint', () => {
  it('exits 3 against the local stack unpinned, saying the manifest was taken on first use', async () => {
    const out = await runCli(['verify-endpoint', stack.url, '--allow-simulated']);
    expect(out.stdout).toContain('TRUST ON FIRST USE');
    expect(out.stdout).toContain(stack.manifestDigest);
    expect(out.stdout).toContain('SIMULATED');
    expect(out.stdout).not.toContain('✘');
    expect(out.exitCode).toBe(3);
  });

  it('exits 0 with the manifest pinned, 1 when the pinned manifest differs in one measurement', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealgate-pin-'));
    try {
      const pinned = join(dir, 'pinned.json');
      await writeFile(pinned, manifestText);
      const good = await runCli(['verify-endpoint', stack.url, '--manifest', pinned, '--allow-simulated']);
      expect(good.stdout).toContain('the gateway serves under exactly this manifest');
      expect(good.stdout).toContain('bound to OUR nonce');
      expect(good.stdout).toContain('EAR is signed');
      expect(good.stdout).toContain('hash chain intact');
      expect(good.exitCode).toBe(0);

      const m = JSON.parse(manifestText) as { roles: Record<string, { snp: { measurements: string[] } }> };
      const measurements = m.roles['attestation-service']!.snp.measurements;
      const first = measurements[0]!;
      measurements[0] = `${first.slice(0, -1)}${first.endsWith('0') ? '1' : '0'}`;
      const edited = join(dir, 'edited.json');
      await writeFile(edited, JSON.stringify(m, null, 2));
      const bad = await runCli(['verify-endpoint', stack.url, '--manifest', edited, '--allow-simulated']);
      expect(bad.stdout).toContain('is NOT one the manifest allows');
      expect(bad.stdout).toContain('NOT VERIFIED');
      expect(bad.exitCode).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 when the endpoint cannot be reached, 2 on bad usage', async () => {
    const down = await runCli(['verify-endpoint', 'http://127.0.0.1:9']);
    expect(down.exitCode).toBe(1);
    expect((await runCli(['verify-endpoint'])).exitCode).toBe(2);
    expect((await runCli(['verify-endpoint', 'ftp://x'])).exitCode).toBe(2);
  });
});

describe.skipIf(!HAS_CHROMIUM)('the verification page in headless Chromium', () => {
  it('shows the verdict, the SIMULATED banner and the measurements; saves a screenshot', async () => {
    const profile = await mkdtemp(join(tmpdir(), 'sealgate-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await context.newPage();
      const res = await page.goto(`${stack.url}/`, { waitUntil: 'load' });
      expect(res?.status()).toBe(200);
      expect(await page.title()).toBe('Sealgate — verification');
      const verdict = page.locator('#verdict');
      expect(await verdict.getAttribute('data-verdict')).toBe('verified-simulated');
      expect(await verdict.textContent()).toContain('VERIFIED');
      const banner = page.locator('#simulated-banner');
      expect(await banner.isVisible()).toBe(true);
      expect(await banner.textContent()).toContain('SIMULATED HARDWARE');
      const measurement = await page.locator('[data-testid="service-measurement"]').textContent();
      const m = JSON.parse(manifestText) as { roles: Record<string, { snp: { measurements: string[] } }> };
      expect(m.roles['attestation-service']!.snp.measurements).toContain(measurement);
      expect(await page.locator('#service').textContent()).toContain('matches');
      expect(await page.locator('#manifest-digest').textContent()).toBe(stack.manifestDigest);
      expect(await page.locator('#ear-status').textContent()).toBe('warning');
      expect(await page.locator('#tcb').textContent()).toContain('microcode');
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'verification-page.png'), fullPage: true });
      expect(existsSync(join(ARTIFACTS, 'verification-page.png'))).toBe(true);
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  }, 120_000);
});
