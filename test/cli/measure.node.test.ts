/**
 * `sealgate measure` as a black box (in-process through `runCli`, once through the real entry
 * point): every snp-measure vector case, --json, --ovmf-hash, exit 2 on every refusal. Then
 * `manifest pin` with computed measurements (--measurement, --from-image) on a real report: the
 * computed value is what the manifest pins, and the report's own instance is then rejected.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { syntheticOvmf } from '../evidence/snp/measure/synthetic-ovmf.js';
import { vectors } from '../support/vectors.js';

const v = vectors();
const present = v.present && v.has('snp-measure/expected.json');
const dir = resolve(v.present ? (process.env.SEALGATE_TESTDATA ?? '../shared/testdata') : '.');
const measureDir = join(dir, 'snp-measure');
const tmp = mkdtempSync(join(tmpdir(), 'sealgate-measure-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function save(name: string, data: string | Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, data);
  return p;
}
const EMPTY = save('empty', '');

interface Case {
  name: string;
  vcpus: number;
  vcpu_type: string | null;
  ovmf: string;
  kernel: string | null;
  append: string | null;
  guest_features: string;
  vmm: string;
  launch_digest: string;
}

function argsOf(c: Case): string[] {
  return [
    '--ovmf',
    join(measureDir, c.ovmf),
    '--vcpus',
    String(c.vcpus),
    ...(c.vcpu_type ? ['--vcpu-type', c.vcpu_type] : []),
    '--vmm',
    c.vmm.toLowerCase(),
    '--guest-features',
    c.guest_features,
    ...(c.kernel ? ['--kernel', EMPTY, '--initrd', EMPTY] : []),
    ...(c.append !== null ? ['--append', c.append] : []),
  ];
}

const AMDSEV = () => join(measureDir, 'ovmf_AmdSev_suffix.bin');
const X64 = () => join(measureDir, 'ovmf_OvmfX64_suffix.bin');

describe.skipIf(!present)(`sealgate measure${present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  const expected = () =>
    v.json<{ ovmf_snp_hash_AmdSev_suffix: string; cases: Case[] }>('snp-measure/expected.json');

  it('prints every case’s launch digest on the first line, exit 0', async () => {
    for (const c of expected().cases) {
      const r = await runCli(['measure', ...argsOf(c)]);
      expect(r.exitCode, c.name).toBe(0);
      expect(r.stdout.split('\n')[0], c.name).toBe(c.launch_digest);
    }
  });

  it('--json prints {"measurement": …}; the defaults are QEMU and guest features 0x21', async () => {
    const c = expected().cases.find((x) => x.name === 'snp-default-no-kernel')!;
    const r = await runCli([
      'measure',
      '--ovmf',
      AMDSEV(),
      '--vcpus',
      '1',
      '--vcpu-type',
      'EPYC-v4',
      '--json',
    ]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ measurement: c.launch_digest });
  });

  it('--vcpu-sig in hex equals the named type; --ovmf-hash gives the same digest', async () => {
    const c = expected().cases.find((x) => x.name === 'snp-default-cmdline')!;
    const bySig = [...argsOf(c)];
    bySig.splice(bySig.indexOf('--vcpu-type'), 2, '--vcpu-sig', '0x800f12');
    expect((await runCli(['measure', ...bySig])).stdout).toBe(`${c.launch_digest}\n`);
    const hashed = [...argsOf(c), '--ovmf-hash', expected().ovmf_snp_hash_AmdSev_suffix];
    expect((await runCli(['measure', ...hashed])).stdout).toBe(`${c.launch_digest}\n`);
  });

  it('measure ovmf-hash prints the digest after the OVMF pages (sev-snp-measure snp:ovmf-hash)', async () => {
    const r = await runCli(['measure', 'ovmf-hash', '--ovmf', AMDSEV()]);
    expect(r).toEqual({ stdout: `${expected().ovmf_snp_hash_AmdSev_suffix}\n`, exitCode: 0 });
    const odd = await runCli(['measure', 'ovmf-hash', '--ovmf', save('odd.bin', new Uint8Array(100))]);
    expect(odd.exitCode).toBe(2);
    expect(odd.stderr).toMatch(/not whole 4 KiB pages/);
  });

  it.each([
    [
      ['--ovmf', 'X64', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--kernel', 'EMPTY'],
      /no kernel-hashes section/,
    ],
    [['--ovmf', 'NOMETA', '--vcpus', '1', '--vcpu-type', 'EPYC-v4'], /no SNP metadata/],
    [['--ovmf', 'GARBAGE', '--vcpus', '1', '--vcpu-type', 'EPYC-v4'], /no GUIDed table/],
    [['--ovmf', 'AMDSEV', '--vcpus', '1', '--vcpu-type', 'EPYC-v9'], /unknown vCPU type "EPYC-v9"/],
    [['--ovmf', 'AMDSEV', '--vcpus', '1'], /QEMU needs --vcpu-type or --vcpu-sig/],
    [['--ovmf', 'AMDSEV', '--vcpus', '1', '--vcpu-type', 'EPYC-v4', '--vcpu-sig', '1'], /not both/],
    [['--ovmf', 'AMDSEV', '--vcpus', '1', '--vcpu-sig', '0xzz'], /--vcpu-sig: not a hex number/],
    [['--ovmf', 'AMDSEV', '--vcpus', '1', '--vcpu-sig', '1', '--guest-features', '0x1g'], /--guest-features/],
    [
      ['--ovmf', 'AMDSEV', '--vcpus', '1', '--vcpu-sig', '1', '--ovmf-hash', 'abcd'],
      /--ovmf-hash: not 96 hex/,
    ],
    [['--ovmf', 'AMDSEV', '--vcpus', '0', '--vcpu-sig', '1'], /--vcpus: not a positive integer/],
    [['--ovmf', 'AMDSEV', '--vcpus', '1', '--vcpu-sig', '1', '--vmm', 'xen'], /--vmm: one of qemu, ec2, gce/],
    [['--ovmf', 'AMDSEV', '--vcpus', '1', '--vcpu-sig', '1', '--append', 'x'], /need --kernel/],
    [['--ovmf', 'MISSING', '--vcpus', '1', '--vcpu-sig', '1'], /--ovmf: cannot read/],
    [['--vcpus', '1'], /missing --ovmf/],
  ])('refuses %j → exit 2 with the reason', async (argv, message) => {
    const files: Record<string, string> = {
      X64: X64(),
      AMDSEV: AMDSEV(),
      EMPTY,
      NOMETA: save('nometa.bin', syntheticOvmf({ sections: null })),
      GARBAGE: save('garbage.bin', new Uint8Array(4096).fill(0xa5)),
      MISSING: join(tmp, 'missing.bin'),
    };
    const r = await runCli(['measure', ...argv.map((a) => files[a] ?? a)]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('the real entry point: npm run --silent sealgate -- measure', async () => {
    const c = expected().cases.find((x) => x.name === 'snp-default-4-vcpus')!;
    const run = promisify(execFile);
    const { stdout } = await run('npm', ['run', '--silent', 'sealgate', '--', 'measure', ...argsOf(c)]);
    expect(stdout).toBe(`${c.launch_digest}\n`);
    const bad = await run('npm', [
      'run',
      '--silent',
      'sealgate',
      '--',
      'measure',
      '--ovmf',
      X64(),
      '--vcpus',
      '1',
      '--vcpu-type',
      'EPYC-v4',
      '--kernel',
      EMPTY,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
  });
});

const SET = 'milan-v2-virtee';
const pinPresent = present && v.has(`snp/${SET}/expected.json`);

describe.skipIf(!pinPresent)(
  `manifest pin with computed measurements${pinPresent ? '' : ' (skipped: no vectors)'}`,
  () => {
    const set = () => {
      const e = v.json<{
        files: { report: string; endorsement_cert: string; ask_ark_chain: string };
        endorsement_cert: { not_before: string };
        report: { measurement: string };
      }>(`snp/${SET}/expected.json`);
      const base = join(dir, 'snp', SET);
      const at = new Date(Date.parse(e.endorsement_cert.not_before) + 86_400_000).toISOString();
      const evidence = [
        '--report',
        join(base, e.files.report),
        '--cert',
        join(base, e.files.endorsement_cert),
      ];
      return {
        evidence: [...evidence, '--chain', resolve(base, e.files.ask_ark_chain)],
        at,
        measurement: e.report.measurement,
      };
    };
    const computed = () => v.json<{ cases: Case[] }>('snp-measure/expected.json').cases[0]!;

    async function pin(extra: string[]) {
      const s = set();
      const gatewayKey = ['--gateway-key', '11'.repeat(32)];
      return runCli([
        'manifest',
        'pin',
        ...s.evidence,
        '--role',
        'worker',
        '--at',
        s.at,
        ...gatewayKey,
        ...extra,
      ]);
    }
    async function verify(manifest: string) {
      const s = set();
      const r = await runCli([
        'verify',
        ...s.evidence,
        '--manifest',
        manifest,
        '--role',
        'worker',
        '--at',
        s.at,
        '--any-report-data',
      ]);
      return { ...r, json: JSON.parse(r.stdout) };
    }

    it('--from-image pins the computed digest; the report then vouches for the platform only', async () => {
      const c = computed();
      const r = await pin(['--from-image', ...argsOf(c)]);
      expect(r.exitCode).toBe(0);
      const manifest = JSON.parse(r.stdout);
      expect(manifest.roles.worker.snp.measurements).toEqual([c.launch_digest]);
      expect(r.stderr).toContain(
        `the report's MEASUREMENT ${set().measurement} is not one of the computed measurements`,
      );
      const rejected = await verify(save('from-image.json', r.stdout));
      expect(rejected.exitCode).toBe(1);
      expect(rejected.json.violations.map((x: { code: string }) => x.code)).toEqual([
        'measurement_not_allowed',
      ]);
    });

    it('--measurement (repeatable) pins exactly the values given; with the report’s own, verify is trusted', async () => {
      const c = computed();
      const r = await pin([
        '--measurement',
        c.launch_digest.toUpperCase(),
        '--measurement',
        set().measurement,
      ]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toBe('');
      const manifest = JSON.parse(r.stdout);
      expect(manifest.roles.worker.snp.measurements).toEqual([c.launch_digest, set().measurement]);
      const trusted = await verify(save('measurement.json', r.stdout));
      expect(trusted.exitCode).toBe(0);
      expect(trusted.json.verdict).toBe('trusted');
    });

    it('without computed values pin still pins the report’s measurement', async () => {
      const r = await pin([]);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout).roles.worker.snp.measurements).toEqual([set().measurement]);
    });

    it.each([
      [['--measurement', 'abcd'], /--measurement: not 96 hex digits/],
      [['--ovmf', 'x', '--vcpus', '1'], /--ovmf describes an image: add --from-image/],
      [['--from-image'], /an image needs --ovmf and --vcpus/],
    ])('refuses %j → exit 2', async (extra, message) => {
      const r = await pin(extra);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
    });

    it('--from-image with an unmeasurable image → exit 2, nothing pinned', async () => {
      const r = await pin([
        '--from-image',
        '--ovmf',
        X64(),
        '--vcpus',
        '1',
        '--vcpu-type',
        'EPYC-v4',
        '--kernel',
        EMPTY,
      ]);
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/kernel-hashes/);
    });
  },
);
