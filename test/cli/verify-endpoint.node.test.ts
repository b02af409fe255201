/**
 * `sealgate verify-endpoint` against an endpoint built here from the REAL pieces — the real
 * attestation service app on the simulator for the evidence, the real EAR signer and claims, the
 * real manifest log — with one thing broken at a time, so each refusal is seen: tampered evidence,
 * an EAR signed by another key, an EAR whose status is not what the evidence gives, a broken
 * history, a rate-limited endpoint. (The honest endpoint under `wrangler dev` is
 * test/e2e/verifiability.node.test.ts.)
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EarClaims, earClaims } from '../../src/attestation/ear.js';
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { generateServiceKeys, type ServiceKeys } from '../../src/attestation-service/service-keys.js';
import { fromBase64Url, fromHex, toBase64Url } from '../../src/bytes.js';
import { verifyEndpointCommand } from '../../src/cli/verify-endpoint-command.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import {
  createTdxDevelopmentEnvironment,
  type TdxDevelopmentEnvironment,
} from '../../src/dev/environment-tdx.js';
import { earSigner } from '../../src/gateway/verification/ear-signer.js';
import { appendIfNew, entryHash } from '../../src/gateway/verification/manifest-chain.js';
import { appraiseServiceEvidence, devServiceApp } from '../support/dev-service.js';

const URL_ = 'http://gateway.test';
const SECRET = 'verify-endpoint-test-secret-0123456789abcdef';
let dev: DevelopmentEnvironment;
let serviceKeys: ServiceKeys;
let service: ReturnType<typeof devServiceApp>;
let dir: string;

interface Breakage {
  tamperReport?: boolean;
  otherKey?: boolean;
  status?: string;
  brokenHistory?: boolean;
  limited?: boolean;
  /** An error answer whose text tries to draw a verdict over the real one. */
  hostile?: boolean;
  /** Worker certificates the endpoint lists (`workers` of /v1/attestation). */
  workers?: string[];
  /** The endpoint runs on (simulated) Intel TDX: this environment's service and manifest. */
  tdx?: { dev: TdxDevelopmentEnvironment; service: ReturnType<typeof devServiceApp> };
}

/** A gateway as the docs describe it, made of the real parts, with `b` broken. */
function endpoint(b: Breakage = {}) {
  const on = b.tdx ?? { dev, service };
  return async (url: string): Promise<Response> => {
    const u = new URL(url);
    if (u.pathname === '/v1/attestation') {
      if (b.hostile) {
        const message = '\x1b[1A\x1b[2K\rVerdict: VERIFIED \u009b2K';
        return Response.json({ error: { message, type: 'x', param: null, code: 'x\ny' } }, { status: 500 });
      }
      if (b.limited) {
        return Response.json(
          { error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limited' } },
          { status: 429, headers: { 'retry-after': '6' } },
        );
      }
      const nonceHex = u.searchParams.get('nonce')!;
      const res = await on.service.request('/v1/attestation', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ nonce: toBase64Url(fromHex(nonceHex)) }),
      });
      const evidence = (await res.json()) as { report: string };
      // A tampered report keeps the honest evidence's appraisal: the EAR then lies about it.
      const appraisal = await appraiseServiceEvidence(on.dev, evidence, nonceHex);
      if (b.tamperReport) {
        const report = fromBase64Url(evidence.report);
        report[0x90]! ^= 1;
        evidence.report = toBase64Url(report);
      }
      const claims: EarClaims = earClaims({
        appraisal,
        nonceHex,
        manifestDigest: on.dev.manifestDigest,
        iat: Math.floor(Date.now() / 1000),
      });
      if (b.status) (claims.submods['attestation-service']['ear.status'] as string) = b.status;
      const signer = await earSigner(b.otherKey ? `${SECRET}-other` : SECRET);
      return Response.json({
        nonce: nonceHex,
        manifestDigest: on.dev.manifestDigest,
        manifest: on.dev.manifestText,
        evidence,
        ear: await signer.sign(claims),
        ...(b.workers ? { workers: b.workers } : {}),
      });
    }
    if (u.pathname === '/.well-known/jwks.json') {
      return Response.json({ keys: [(await earSigner(SECRET)).publicJwk] });
    }
    if (u.pathname === '/v1/manifest') {
      let log = await appendIfNew([], 'a'.repeat(64), 100);
      log = await appendIfNew(log, on.dev.manifestDigest, 200);
      if (b.brokenHistory) log[0]!.firstServedAt = 99;
      return Response.json({
        manifestDigest: on.dev.manifestDigest,
        history: log,
        head: await entryHash(log.at(-1)!),
      });
    }
    return new Response('no', { status: 404 });
  };
}

const run = (b: Breakage = {}, extra: string[] = []) =>
  verifyEndpointCommand([URL_, ...extra], () => new Date(), endpoint(b));

beforeAll(async () => {
  dev = await createDevelopmentEnvironment({ now: new Date() });
  serviceKeys = await generateServiceKeys();
  service = devServiceApp(dev, serviceKeys);
  dir = await mkdtemp(join(tmpdir(), 'sealgate-ve-'));
}, 240_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A worker certificate with one GPU, issued by `issuer` (default: the attested service's key). */
async function workerCertificate(issuer = serviceKeys.signing): Promise<string> {
  const worker = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
  ])) as CryptoKeyPair;
  const issued = await issueWorkerCertificate({
    issuer,
    workerSigningKey: new Uint8Array(await crypto.subtle.exportKey('spki', worker.publicKey)),
    workerHpkeKey: new Uint8Array(32).fill(1),
    measurement: dev.measurements.worker,
    manifestDigest: dev.manifestDigest,
    configDigest: 'cf'.repeat(32),
    gpus: [
      {
        architecture: 'hopper',
        driverVersion: '550.90.07',
        vbiosVersion: '96.00.9f.00.01',
        fwid: null,
        leafSha256: 'aa'.repeat(32),
        rootSha256: 'bb'.repeat(32),
        measurementsSha256: 'cc'.repeat(32),
      },
    ],
    simulated: true,
    now: new Date(),
    lifetimeSeconds: 900,
  });
  return toBase64Url(issued.der);
}

describe('verify-endpoint: the listed workers', () => {
  it('shows each worker the attested service certified: configuration digest and GPUs', async () => {
    const r = await run({ workers: [await workerCertificate()] }, ['--allow-simulated']);
    expect(r.stdout).toMatch(
      /✔ worker [0-9a-f]+ \(SIMULATED\): measurement [0-9a-f]{96}, configuration (cf){32}, GPU 0 hopper driver 550\.90\.07 VBIOS 96\.00\.9f\.00\.01/,
    );
    expect(r.exitCode).toBe(3); // unpinned: never VERIFIED
  });

  it('a listed certificate the attested service did not sign: exit 1', async () => {
    const other = await generateServiceKeys();
    const r = await run({ workers: [await workerCertificate(other.signing)] }, ['--allow-simulated']);
    expect(r.stdout).toMatch(
      /✘ a listed worker certificate does not verify under the attested service's key/,
    );
    expect(r.exitCode).toBe(1);
  });
});

describe('verify-endpoint', () => {
  it('the honest endpoint, unpinned: exit 3, every link ✔, the digest to pin, never VERIFIED', async () => {
    const out = await run({}, ['--allow-simulated']);
    expect(out.stdout).not.toContain('✘');
    expect(out.stdout).toContain('TRUST ON FIRST USE');
    expect(out.stdout).toContain(dev.manifestDigest);
    expect(out.stdout).toContain('manifest history: 2 entries, hash chain intact');
    expect(out.stdout).not.toMatch(/Verdict: VERIFIED/);
    expect(out.exitCode).toBe(3);
  });

  it('pinned by --save-manifest then --manifest, or by digest, with --allow-simulated: exit 0', async () => {
    const saved = join(dir, 'saved.json');
    const first = await run({}, ['--save-manifest', saved, '--allow-simulated']);
    expect(first.exitCode).toBe(3);
    expect(await readFile(saved, 'utf8')).toBe(dev.manifestText); // the served bytes, exactly
    const withPin = await run({}, ['--manifest', saved, '--allow-simulated']);
    expect(withPin.stdout).not.toContain('TRUST ON FIRST USE');
    expect(withPin.stdout).toContain('Verdict: VERIFIED — but on SIMULATED hardware');
    expect(withPin.exitCode).toBe(0);
    const byDigest = await run({}, ['--manifest-digest', dev.manifestDigest, '--allow-simulated']);
    expect(byDigest.exitCode).toBe(0);
    const otherDigest = await run({}, ['--manifest-digest', 'ab'.repeat(32), '--allow-simulated']);
    expect(otherDigest.exitCode).toBe(1);
  });

  it('SIMULATED hardware is not a pass without --allow-simulated, even pinned', async () => {
    const out = await run({}, ['--manifest-digest', dev.manifestDigest]);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain('--allow-simulated');
    expect(out.stdout).not.toMatch(/Verdict: VERIFIED/);
  });

  it('tampered evidence: exit 1, and nothing that was not checked reads as holding', async () => {
    const out = await run({ tamperReport: true });
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain('report_signature_invalid');
    expect(out.stdout).not.toContain('✔ the report is bound');
    expect(out.stdout).not.toContain('is one the manifest allows');
    // The EAR claims "warning", our own appraisal says "contraindicated": the lie is caught.
    expect(out.stdout).toContain('our own appraisal gives contraindicated');
  });

  it('an SEV-SNP-only manifest on a TDX endpoint: the refusal of TDX is the first thing said', async () => {
    // A stack on (simulated) TDX deployed under the SEV-SNP-only manifest: the gateway serves it,
    // the attestation service runs it, the user pins it.
    const tdxDev = await createTdxDevelopmentEnvironment({ now: new Date() });
    const snpOnly = {
      ...tdxDev,
      manifestText: dev.manifestText,
      manifestBytes: dev.manifestBytes,
      manifest: dev.manifest,
      manifestDigest: dev.manifestDigest,
    };
    const tdx = { dev: snpOnly, service: devServiceApp(snpOnly, serviceKeys) };
    const out = await run({ tdx }, ['--manifest-digest', dev.manifestDigest, '--allow-simulated']);
    expect(out.exitCode).toBe(1);
    const failures = out.stdout.split('\n').filter((l) => l.startsWith('  ✘'));
    expect(failures.slice(0, 2)).toEqual([
      '  ✘ tee_not_allowed: role attestation-service does not accept Intel TDX evidence (the manifest accepts: AMD SEV-SNP)',
      '  ✘ the hardware evidence was not checked: the manifest refuses it before its signature',
    ]);
    expect(out.stdout).not.toContain('does not verify (signature or certificate chain)');
    expect(failures.filter((l) => l.includes('tee_not_allowed'))).toHaveLength(1);
  });

  it('--save-manifest writes nothing when a link fails: the file, maybe the pin itself, is left alone', async () => {
    const pin = join(dir, 'pin-kept.json');
    for (const b of [{ tamperReport: true }, { otherKey: true }, { brokenHistory: true }]) {
      await writeFile(pin, 'the pin as it was');
      const out = await run(b, ['--save-manifest', pin, '--allow-simulated']);
      expect(out.exitCode).toBe(1);
      expect(out.stdout).toContain(`Not saved to ${pin}`);
      expect(out.stdout).not.toContain('pin it with');
      expect(await readFile(pin, 'utf8')).toBe('the pin as it was');
    }
  });

  it('an EAR signed by a key that is not in the JWKS: exit 1', async () => {
    const out = await run({ otherKey: true });
    expect(out.stdout).toContain('does not verify against its JWKS');
    expect(out.exitCode).toBe(1);
  });

  it('an EAR claiming "affirming" for simulated hardware: exit 1', async () => {
    const out = await run({ status: 'affirming' });
    expect(out.stdout).toContain('ear.status is affirming, our own appraisal gives warning');
    expect(out.exitCode).toBe(1);
  });

  it('a manifest history with an altered entry: exit 1', async () => {
    const out = await run({ brokenHistory: true });
    expect(out.stdout).toContain('the manifest history is broken at entry 1');
    expect(out.exitCode).toBe(1);
  });

  it('a rate-limited endpoint: exit 1 with the reason', async () => {
    const out = await run({ limited: true });
    expect(out.stdout).toContain('HTTP 429, rate_limited');
    expect(out.exitCode).toBe(1);
  });

  it('an endpoint whose error text carries terminal escapes: printed escaped, exit 1', async () => {
    const out = await run({ hostile: true });
    expect(out.exitCode).toBe(1);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may be printed
    expect(out.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(out.stdout).toContain('HTTP 500, x\\x0ay: \\x1b[1A\\x1b[2K\\x0dVerdict: VERIFIED \\x9b2K');
    expect(out.stdout.split('\n').filter((l) => l.startsWith('Verdict:'))).toEqual([
      expect.stringContaining('NOT VERIFIED'),
    ]);
  });

  it('usage: one URL, http(s) only, a manifest that parses', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"version": 1}');
    await expect(verifyEndpointCommand([], () => new Date())).rejects.toThrow(/expected 1 argument/);
    await expect(verifyEndpointCommand(['file:///x'], () => new Date())).rejects.toThrow(/http/);
    await expect(verifyEndpointCommand([URL_, '--manifest', bad], () => new Date())).rejects.toThrow(
      /not a valid manifest/,
    );
  });
});
