/**
 * Choosing TDX by configuration: `SEALGATE_TEE=tdx` on the simulator loads (or makes, mode 0600)
 * the SIMULATED TDX chain, refuses a manifest that does not name its root, and gives a TD whose
 * quote verifies under the TDX dev manifest; a bad SEALGATE_TEE is refused; `SEALGATE_PCS_URL`
 * gives a PCS fetcher. The chain file round-trips, and a file whose key belongs to another
 * certificate is refused at load rather than producing quotes that fail later.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeReportData } from '../../src/attestation/report-data.js';
import { verifyTdxAttestation } from '../../src/attestation/verify-tdx-attestation.js';
import { configFromEnv } from '../../src/attestation-service/main.js';
import { createDevelopmentEnvironment } from '../../src/dev/environment.js';
import { writeTdxDevelopmentFiles } from '../../src/dev/files.js';
import { createTdxDevChain } from '../../src/platform/simulator/tdx-chain.js';
import { exportTdxDevChain, importTdxDevChain } from '../../src/platform/simulator/tdx-chain-json.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { expectSealgateError } from '../keys/support.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-tdx-config-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('SEALGATE_TEE=tdx on the simulator', () => {
  it('runs a simulated TD under the TDX dev manifest; its quote verifies for the service role', async () => {
    const files = await writeTdxDevelopmentFiles(join(dir, 'dev'), { now: new Date() });
    expect((await stat(files.chainPath)).mode & 0o777).toBe(0o600);
    const c = await configFromEnv({
      SEALGATE_MANIFEST: files.manifestPath,
      SEALGATE_PLATFORM: 'simulator',
      SEALGATE_TEE: 'tdx',
      SEALGATE_DEV_CHAIN: files.chainPath,
    });
    expect(c.platform.kind).toBe('tdx');
    expect(c.platform.simulated).toBe(true);
    expect(c.platform.description).toContain('SIMULATED');
    const bytes = await readFile(files.manifestPath);
    const manifest = parseManifest(bytes);
    const expectedReportData = await computeReportData({
      role: 'attestation-service',
      nonce: new Uint8Array(32),
      manifestDigest: await manifestDigest(bytes),
      keys: {},
    });
    if (c.platform.kind !== 'tdx') throw new Error('not a TD');
    const evidence = await c.platform.getEvidence(expectedReportData);
    const v = await verifyTdxAttestation({
      quote: evidence.quote,
      ...(evidence.collateral ? { collateral: evidence.collateral } : {}),
      manifest,
      role: 'attestation-service',
      expectedReportData,
      now: new Date(),
    });
    expect(v.violations).toEqual([]);
  });

  it('refuses a manifest that does not name the simulated SGX root, and a bad SEALGATE_TEE', async () => {
    const snp = await createDevelopmentEnvironment({ now: new Date() });
    const manifestPath = join(dir, 'snp.json');
    await writeFile(manifestPath, snp.manifestBytes);
    await expectSealgateError(
      configFromEnv({
        SEALGATE_MANIFEST: manifestPath,
        SEALGATE_PLATFORM: 'simulator',
        SEALGATE_TEE: 'tdx',
        SEALGATE_DEV_CHAIN: join(dir, 'other', 'tdx-chain.json'),
      }),
      'invalid_argument',
      /does not trust the simulated SGX root .* which was just created/,
    );
    await expectSealgateError(
      configFromEnv({ SEALGATE_MANIFEST: manifestPath, SEALGATE_PLATFORM: 'simulator', SEALGATE_TEE: 'sgx' }),
      'invalid_argument',
      /SEALGATE_TEE must be "sev-snp" or "tdx", got "sgx"/,
    );
  });

  it('SEALGATE_PCS_URL gives the service a PCS fetcher for that base', async () => {
    const files = await writeTdxDevelopmentFiles(join(dir, 'dev'), { now: new Date() });
    const c = await configFromEnv({
      SEALGATE_MANIFEST: files.manifestPath,
      SEALGATE_PLATFORM: 'simulator',
      SEALGATE_TEE: 'tdx',
      SEALGATE_DEV_CHAIN: files.chainPath,
      SEALGATE_PCS_URL: 'https://pccs.example.invalid',
    });
    expect(c.pcs?.baseUrl).toBe('https://pccs.example.invalid');
    expect(c.pcs?.cache).toBeDefined();
  });
});

describe('the TDX dev chain file', () => {
  it('round-trips, and refuses a key that belongs to another certificate', async () => {
    const chain = await createTdxDevChain({ now: new Date() });
    const json = await exportTdxDevChain(chain);
    const back = await importTdxDevChain(JSON.parse(JSON.stringify(json)));
    expect(back.rootSha256).toBe(chain.rootSha256);
    expect(back.platform.fmspc).toEqual(chain.platform.fmspc);
    const swapped = { ...json, keys: { ...json.keys, pck: json.keys.pckCa } };
    await expectSealgateError(importTdxDevChain(swapped), 'invalid_argument', /keys.pck does not belong/);
    await expectSealgateError(
      importTdxDevChain({ ...json, format: 'x' }),
      'invalid_argument',
      /format must be/,
    );
  });
});
