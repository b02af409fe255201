/**
 * The configfs-tsm provider against a directory that behaves like the kernel's: creating an entry
 * makes its attribute files, writing `inblob` bumps `generation` and produces `outblob` (a real
 * report, with the written REPORT_DATA recorded) and `auxblob` (the GHCB certificate table).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { serializeCertTable } from '../../src/evidence/snp/cert-table.js';
import { ConfigfsTsmPlatform, type TsmFileOps } from '../../src/platform/configfs-tsm.js';
import { vectors } from '../support/vectors.js';

const v = vectors();

interface FakeKernel {
  ops: TsmFileOps;
  written: Uint8Array[];
  /** Simulate a concurrent writer this many times. */
  raceTimes: number;
}

function fakeKernel(report: Uint8Array, aux: Uint8Array | null, provider = 'sev_guest'): FakeKernel {
  const k: FakeKernel = { written: [], raceTimes: 0, ops: undefined as unknown as TsmFileOps };
  const gen = new Map<string, number>();
  k.ops = {
    mkdir: async (p) => {
      await mkdir(p);
      gen.set(p, 0);
      await writeFile(join(p, 'provider'), `${provider}\n`);
      await writeFile(join(p, 'generation'), '0\n');
    },
    rmdir: async (p) => {
      rmSync(p, { recursive: true });
    },
    readFile: async (p) => {
      const dir = p.slice(0, p.lastIndexOf('/'));
      if (basename(p) === 'outblob' && k.raceTimes > 0) {
        k.raceTimes--;
        gen.set(dir, gen.get(dir)! + 1);
        await writeFile(join(dir, 'generation'), `${gen.get(dir)}\n`);
      }
      return new Uint8Array(await readFile(p));
    },
    writeFile: async (p, d) => {
      const dir = p.slice(0, p.lastIndexOf('/'));
      if (basename(p) === 'inblob') {
        k.written.push(d as Uint8Array);
        gen.set(dir, gen.get(dir)! + 1);
        await writeFile(join(dir, 'generation'), `${gen.get(dir)}\n`);
        await writeFile(join(dir, 'outblob'), report);
        if (aux) await writeFile(join(dir, 'auxblob'), aux);
      } else await writeFile(p, d);
    },
  };
  return k;
}

describe.skipIf(!v.present)(`configfs-tsm provider${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tsm-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const report = () => v.bytes('snp/milan-v2-virtee/report.bin');
  const vcek = () => v.bytes('snp/milan-v2-virtee/vcek.der');

  it('writes REPORT_DATA, reads the report and the certificate table, and removes its entry', async () => {
    const k = fakeKernel(report(), serializeCertTable({ vcek: vcek() }));
    const p = new ConfigfsTsmPlatform({ root, fileOps: k.ops });
    const rd = new Uint8Array(64).fill(7);
    const ev = await p.getEvidence(rd);
    expect(k.written).toEqual([rd]);
    expect(ev.report).toEqual(report());
    expect(ev.certificates.vcek).toEqual(vcek());
    expect(ev.certificates.ask).toBeUndefined();
    expect(readdirSync(root)).toEqual([]);
    expect(p.simulated).toBe(false);
  });

  it('works without auxblob (certificates then come from KDS)', async () => {
    const k = fakeKernel(report(), null);
    const ev = await new ConfigfsTsmPlatform({ root, fileOps: k.ops }).getEvidence(new Uint8Array(64));
    expect(ev.certificates).toEqual({});
  });

  it('asks again when generation changed under it, and gives up after three races', async () => {
    const k = fakeKernel(report(), null);
    k.raceTimes = 2;
    await new ConfigfsTsmPlatform({ root, fileOps: k.ops }).getEvidence(new Uint8Array(64));
    expect(k.written).toHaveLength(3);
    const k2 = fakeKernel(report(), null);
    k2.raceTimes = 3;
    await expect(
      new ConfigfsTsmPlatform({ root, fileOps: k2.ops }).getEvidence(new Uint8Array(64)),
    ).rejects.toThrow('generation kept changing');
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses a provider that is not sev_guest, bad REPORT_DATA and a bad VMPL', async () => {
    const tdx = fakeKernel(report(), null, 'tdx_guest');
    await expect(
      new ConfigfsTsmPlatform({ root, fileOps: tdx.ops }).getEvidence(new Uint8Array(64)),
    ).rejects.toThrow('provider is "tdx_guest", not sev_guest');
    const p = new ConfigfsTsmPlatform({ root, fileOps: fakeKernel(report(), null).ops });
    await expect(p.getEvidence(new Uint8Array(63))).rejects.toThrow('exactly 64 bytes');
    await expect(p.getEvidence(new Uint8Array(64), { vmpl: 4 })).rejects.toThrow('vmpl must be');
  });

  it('writes privlevel when a VMPL is asked for', async () => {
    const k = fakeKernel(report(), null);
    const seen: string[] = [];
    const ops = {
      ...k.ops,
      writeFile: async (p: string, d: Uint8Array | string) => {
        if (p.endsWith('privlevel')) seen.push(String(d));
        return k.ops.writeFile(p, d);
      },
    };
    await new ConfigfsTsmPlatform({ root, fileOps: ops }).getEvidence(new Uint8Array(64), { vmpl: 2 });
    expect(seen).toEqual(['2']);
  });

  it('says clearly when configfs is not there', async () => {
    const p = new ConfigfsTsmPlatform({ root: join(root, 'missing', 'deeper') });
    try {
      await p.getEvidence(new Uint8Array(64));
      expect.unreachable();
    } catch (e) {
      expect(isSealgateError(e, 'internal')).toBe(true);
      expect((e as Error).message).toContain('is configfs mounted?');
    }
    expect(existsSync(join(root, 'missing'))).toBe(false);
  });
});
