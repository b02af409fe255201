/**
 * configfs-tsm on Intel TDX against a directory that behaves like the kernel's (provider
 * `tdx_guest`; writing `inblob` bumps `generation` and produces `outblob`, the quote, and no
 * auxblob): the quote carries exactly the REPORT_DATA written, the entry is removed, and a
 * provider of the other TEE is refused in both directions. The quote is the simulator's, so that
 * the test checks what the verifier then accepts.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { parseQuote } from '../../src/evidence/tdx/parse-quote.js';
import { ConfigfsTsmPlatform, detectTsmProvider, type TsmFileOps } from '../../src/platform/configfs-tsm.js';
import { ConfigfsTsmTdxPlatform } from '../../src/platform/configfs-tsm-tdx.js';
import { createTdxDevChain } from '../../src/platform/simulator/tdx-chain.js';
import { signTdxQuote } from '../../src/platform/simulator/tdx-quote.js';

/** A kernel whose TDX provider quotes what is written to inblob (REPORT_DATA) with the simulator. */
async function fakeTdxKernel(provider = 'tdx_guest'): Promise<{ ops: TsmFileOps; written: Uint8Array[] }> {
  const chain = await createTdxDevChain({ now: new Date() });
  const ak = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const written: Uint8Array[] = [];
  const gen = new Map<string, number>();
  const ops: TsmFileOps = {
    mkdir: async (p) => {
      await mkdir(p);
      gen.set(p, 0);
      await writeFile(join(p, 'provider'), `${provider}\n`);
      await writeFile(join(p, 'generation'), '0\n');
    },
    rmdir: async (p) => rmSync(p, { recursive: true }),
    readFile: async (p) => new Uint8Array(await readFile(p)),
    writeFile: async (p, d) => {
      const dir = p.slice(0, p.lastIndexOf('/'));
      if (basename(p) !== 'inblob') return writeFile(p, d);
      written.push(d as Uint8Array);
      gen.set(dir, gen.get(dir)! + 1);
      await writeFile(join(dir, 'generation'), `${gen.get(dir)}\n`);
      await writeFile(
        join(dir, 'outblob'),
        await signTdxQuote(chain, ak, { mrTd: new Uint8Array(48) }, d as Uint8Array),
      );
    },
  };
  return { ops, written };
}

describe('configfs-tsm on TDX', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tsm-tdx-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes REPORT_DATA, reads the quote (no auxblob), and removes its entry', async () => {
    const k = await fakeTdxKernel();
    const p = new ConfigfsTsmTdxPlatform({ root, fileOps: k.ops });
    expect(p.kind).toBe('tdx');
    expect(p.simulated).toBe(false);
    const rd = new Uint8Array(64).fill(0xa5);
    const ev = await p.getEvidence(rd);
    expect(k.written).toEqual([rd]);
    expect(parseQuote(ev.quote).body.reportData).toEqual(rd);
    expect(ev.collateral).toBeUndefined();
    expect(readdirSync(root)).toEqual([]);
  });

  it('detects the provider, and each platform refuses the other TEE', async () => {
    const tdx = await fakeTdxKernel('tdx_guest');
    expect(await detectTsmProvider({ root, fileOps: tdx.ops })).toBe('tdx_guest');
    const snpOnTdx = new ConfigfsTsmPlatform({ root, fileOps: tdx.ops });
    await expect(snpOnTdx.getEvidence(new Uint8Array(64))).rejects.toThrow(
      /provider is "tdx_guest", not sev_guest/,
    );
    const snp = await fakeTdxKernel('sev_guest');
    const tdxOnSnp = new ConfigfsTsmTdxPlatform({ root, fileOps: snp.ops });
    await expect(tdxOnSnp.getEvidence(new Uint8Array(64))).rejects.toThrow(
      /provider is "sev_guest", not tdx_guest/,
    );
    expect(tdx.written).toEqual([]);
    expect(snp.written).toEqual([]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses REPORT_DATA that is not 64 bytes before touching configfs', async () => {
    const k = await fakeTdxKernel();
    const p = new ConfigfsTsmTdxPlatform({ root, fileOps: k.ops });
    const e = await p.getEvidence(new Uint8Array(32)).catch((x: unknown) => x);
    expect(isSealgateError(e, 'invalid_argument')).toBe(true);
    expect(readdirSync(root)).toEqual([]);
  });

  it('attaches collateral from its provider when given one', async () => {
    const k = await fakeTdxKernel();
    const seen: Uint8Array[] = [];
    const p = new ConfigfsTsmTdxPlatform({
      root,
      fileOps: k.ops,
      collateral: async (quote) => {
        seen.push(quote);
        return null;
      },
    });
    const ev = await p.getEvidence(new Uint8Array(64).fill(1));
    expect(seen).toEqual([ev.quote]);
    expect('collateral' in ev).toBe(false);
  });
});
