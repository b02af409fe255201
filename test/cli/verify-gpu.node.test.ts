/**
 * `sealgate verify-gpu` as a black box on the three real Hopper sets: exit 0 and the JSON claims,
 * exit 1 with every violation for rejected evidence, exit 2 for usage errors and unreadable input.
 * Commands run in-process through `runCli`; one test runs the real `npm run --silent sealgate`.
 * Revocation: the real sets have no saved OCSP answers, so they run with OCSP not required and the
 * output says "revocation not checked"; `gpu.ocsp` require (the default) rejects them, and saved
 * answers that are garbage or forged for NVIDIA's real certificates are refused (--ocsp).
 * `--ocsp-fetch` is never run here (no traffic leaves the machine).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { decodeCertificates } from '../../src/der/pem.js';
import { signOcspResponse } from '../../src/platform/simulator/nvidia-ocsp.js';
import { GPU_SETS, vectors } from '../support/vectors.js';

const v = vectors();
const dir = resolve(v.present ? (process.env.SEALGATE_TESTDATA ?? '../shared/testdata') : '.');
const tmp = mkdtempSync(join(tmpdir(), 'sealgate-gpu-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Set {
  evidence: string;
  hex: string;
  chain: string;
  nonce: string;
  expected: { evidence: { opaque: Record<string, string>; measurements: Record<string, string> } };
}

function set(name: string): Set {
  const base = join(dir, 'nvidia', name);
  const expected = v.json<Set['expected'] & { evidence: { request: { nonce: string } } }>(
    `nvidia/${name}/expected.json`,
  );
  return {
    evidence: join(base, 'report.bin'),
    hex: join(base, 'report.hex'),
    chain: join(base, 'cert_chain.pem'),
    nonce: expected.evidence.request.nonce,
    expected,
  };
}

const args = (s: Set, ...extra: string[]) => [
  'verify-gpu',
  '--evidence',
  s.evidence,
  '--chain',
  s.chain,
  '--nonce',
  s.nonce,
  '--at',
  '2024-01-01T00:00:00Z',
  ...extra,
];

describe.skipIf(!v.present)(`sealgate verify-gpu${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  for (const name of GPU_SETS) {
    it(`${name}: exit 0, JSON claims`, async () => {
      const s = set(name);
      const r = await runCli(args(s, '--json'));
      expect(r.exitCode).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.verdict).toBe('verified');
      expect(out.violations).toEqual([]);
      expect(out.claims.architecture).toBe('hopper');
      expect(out.claims.driverVersion).toBe(s.expected.evidence.opaque.DRIVER_VERSION);
      expect(out.claims.vbiosVersion).toBe(s.expected.evidence.opaque.VBIOS_VERSION);
      expect(out.claims.measurements).toEqual(s.expected.evidence.measurements);
      expect(out.claims.nonce).toBe(s.nonce);
    });
  }

  it('--rim twice: both RIMs verify and the measurements match (exit 0); another time: exit 1', async () => {
    const s = set('hopper-545-with-rims-nvtrust');
    const base = join(dir, 'nvidia', 'hopper-545-with-rims-nvtrust');
    const rims = [
      '--rim',
      join(base, 'driver_rim_test_no_gpu.swidtag'),
      '--rim',
      join(base, 'vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag'),
    ];
    const r = await runCli(args(s, ...rims, '--json'));
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.claims.rims.driver.version).toBe('545.00');
    expect(out.claims.rims.vbios.version).toBe('96.00.5E.00.01');
    const text = await runCli(args(s, ...rims));
    expect(text.stdout).toContain('every active RIM measurement equals the report');
    const late = await runCli([...args(s).slice(0, -2), '--at', '2026-01-01T00:00:00Z', ...rims, '--json']);
    expect(late.exitCode).toBe(1);
    expect(new Set(JSON.parse(late.stdout).violations.map((x: { code: string }) => x.code))).toEqual(
      new Set(['cert_expired']),
    );
    const one = await runCli(args(s, rims[0]!, rims[1]!));
    expect(one.exitCode).toBe(1);
    expect(one.stdout).toContain('rim_conflict');
  });

  it('--manifest --role: the gpu section of the role is evaluated', async () => {
    const s = set('hopper-test-no-gpu-nvtrust');
    const example = JSON.parse(readFileSync('manifests/example.json', 'utf8'));
    const write = (gpu: unknown) => {
      const doc = structuredClone(example);
      if (gpu !== undefined) doc.roles.worker.gpu = gpu;
      const path = join(tmp, `manifest-${Math.random().toString(16).slice(2)}.json`);
      writeFileSync(path, JSON.stringify(doc));
      return path;
    };
    const block2 = s.expected.evidence.measurements['2']!;
    const gpu = {
      count: { min: 1, max: 8 },
      architecture: 'hopper',
      driverVersions: ['550.90.07'],
      vbiosVersions: ['96.00.9f.00.01'],
      measurements: { source: 'golden', golden: [{ index: 2, values: [block2] }] },
      ocsp: 'best-effort',
    };
    const ok = await runCli(args(s, '--manifest', write(gpu), '--role', 'worker', '--json'));
    expect(ok.exitCode).toBe(0);
    const revocation = JSON.parse(ok.stdout).claims.revocation;
    expect(revocation.policy).toBe('best-effort');
    expect(
      revocation.certificates.map((c: { field: string; status: string }) => [c.field, c.status]),
    ).toEqual([
      ['chain[1]', 'unchecked'],
      ['chain[2]', 'unchecked'],
      ['chain[3]', 'unchecked'],
    ]);
    expect(revocation.warnings[0]).toContain('revocation not checked for GH100 A01 GSP BROM');
    // gpu.ocsp absent means "require": no OCSP answer for the three certificates rejects.
    const { ocsp: _, ...requireByDefault } = gpu;
    const strict = await runCli(args(s, '--manifest', write(requireByDefault), '--role', 'worker', '--json'));
    expect(strict.exitCode).toBe(1);
    expect(JSON.parse(strict.stdout).violations.map((x: { code: string }) => x.code)).toEqual([
      'ocsp_unavailable',
      'ocsp_unavailable',
      'ocsp_unavailable',
    ]);
    const rimPolicy = await runCli(
      args(s, '--manifest', write({ ...gpu, measurements: { source: 'rim' } }), '--role', 'worker', '--json'),
    );
    expect(rimPolicy.exitCode).toBe(1);
    expect(JSON.parse(rimPolicy.stdout).violations.map((x: { code: string }) => x.code)).toEqual([
      'gpu_cc_mode_unproven',
    ]);
    const noGpu = await runCli(args(s, '--manifest', write(undefined), '--role', 'worker'));
    expect(noGpu.exitCode).toBe(1);
    expect(noGpu.stdout).toContain('gpu_count_not_allowed');
    const alone = await runCli(args(s, '--manifest', write(gpu)));
    expect(alone.exitCode).toBe(2);
    expect(alone.stderr).toContain('--manifest and --role go together');
    const broken = await runCli(
      args(s, '--manifest', write({ ...gpu, count: { min: 2, max: 1 } }), '--role', 'worker'),
    );
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr).toContain('/roles/worker/gpu/count: min is greater than max');
  });

  it('reads hex text evidence; prints text without --json', async () => {
    const s = set('hopper-coco-ci-trustee');
    const r = await runCli(['verify-gpu', '--evidence', s.hex, ...args(s).slice(3)]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      'verified\n  architecture hopper, driver 580.95.05, VBIOS 96.00.74.00.1a\n' +
        '  revocation not checked (no OCSP policy: give --manifest, --ocsp or --ocsp-fetch)\n',
    );
  });

  it('--ocsp: saved answers are required for every certificate; garbage and forged answers are refused', async () => {
    const s = set('hopper-test-no-gpu-nvtrust');
    const garbage = join(tmp, 'garbage.ocsp');
    writeFileSync(garbage, 'not an OCSP response');
    const g = await runCli(args(s, '--ocsp', garbage, '--json'));
    expect(g.exitCode).toBe(1);
    expect(JSON.parse(g.stdout).violations.map((x: { code: string }) => x.code)).toEqual([
      'ocsp_invalid',
      'ocsp_unavailable',
      'ocsp_unavailable',
      'ocsp_unavailable',
    ]);
    // A "good" answer for the real GSP BROM certificate, naming its real issuer (the Provisioner
    // ICA) as responder but signed by a key of ours: what an attacker without NVIDIA's key can make.
    const certs = decodeCertificates(readFileSync(s.chain));
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const forged = join(tmp, 'forged.ocsp');
    writeFileSync(
      forged,
      await signOcspResponse({
        cert: certs[1]!,
        issuer: { der: certs[2]!, keys, serial: '' },
        status: { kind: 'good' },
        thisUpdate: new Date('2023-12-31T00:00:00Z'),
        nextUpdate: new Date('2024-01-02T00:00:00Z'),
      }),
    );
    const f = await runCli(args(s, '--ocsp', forged));
    expect(f.exitCode).toBe(1);
    expect(f.stdout).toContain('ocsp_signature_invalid (chain[1])');
    expect(f.stdout).toContain('ocsp_unavailable (chain[2])');
  });

  it('exit 1 for another nonce, with the violation', async () => {
    const s = set('hopper-test-no-gpu-nvtrust');
    const other = `${s.nonce.slice(0, 63)}${s.nonce.endsWith('0') ? '1' : '0'}`;
    const r = await runCli([
      'verify-gpu',
      '--evidence',
      s.evidence,
      '--chain',
      s.chain,
      '--nonce',
      other,
      '--json',
    ]);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.verdict).toBe('rejected');
    expect(out.violations.map((x: { code: string }) => x.code)).toEqual(['nonce_mismatch']);
    expect(out.claims).toBeNull();
  });

  it("exit 1 listing every violation for another GPU's chain", async () => {
    const s = set('hopper-test-no-gpu-nvtrust');
    const r = await runCli(args({ ...s, chain: set('hopper-coco-ci-trustee').chain }));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^rejected\n/);
    expect(r.stdout).toContain('gpu_fwid_mismatch (fwid)');
    expect(r.stdout).toContain('report_signature_invalid (signature)');
  });

  it('exit 1 for evidence that does not parse (a cut report)', async () => {
    const s = set('hopper-545-with-rims-nvtrust');
    const cut = join(tmp, 'cut.bin');
    writeFileSync(cut, readFileSync(s.evidence).subarray(0, 2000));
    const r = await runCli(args({ ...s, evidence: cut }, '--json'));
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout).violations[0].code).toBe('report_malformed');
  });

  it('exit 2 for usage errors and unreadable input', async () => {
    const s = set('hopper-545-with-rims-nvtrust');
    const cases: [string[], string][] = [
      [['verify-gpu', '--chain', s.chain, '--nonce', s.nonce], 'missing --evidence'],
      [args(s).map((a) => (a === s.nonce ? 'abcd' : a)), '--nonce: hex: expected 32 bytes, got 2'],
      [
        args({ ...s, evidence: join(tmp, 'absent.bin') }),
        `--evidence: cannot read ${join(tmp, 'absent.bin')} (ENOENT)`,
      ],
      [args({ ...s, chain: s.evidence }), `--chain: ${s.evidence}:`],
      [args(s, '--at', 'yesterday'), '--at given twice'],
      [
        args(s, '--ocsp', join(tmp, 'absent.ocsp')),
        `--ocsp: cannot read ${join(tmp, 'absent.ocsp')} (ENOENT)`,
      ],
      [[...args(s).slice(0, -2), '--at', 'yesterday'], '--at: not an ISO-8601 date'],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv);
      expect(r.exitCode, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it('the real entry point: npm run --silent sealgate', async () => {
    const s = set('hopper-545-with-rims-nvtrust');
    const run = promisify(execFile);
    const { stdout } = await run('npm', ['run', '--silent', 'sealgate', '--', ...args(s, '--json')]);
    expect(JSON.parse(stdout).verdict).toBe('verified');
    const bad = await run('npm', ['run', '--silent', 'sealgate', '--', 'verify-gpu']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain('missing --evidence');
  });
});
