/**
 * Real hardware: Linux's configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm-report,
 * Linux ≥ 6.7), which serves SEV-SNP reports (provider `sev_guest`) and TDX quotes (provider
 * `tdx_guest`, configfs-tsm-tdx.ts) alike. A report is requested by creating a directory under
 * /sys/kernel/config/tsm/report/, writing the 64-byte REPORT_DATA to `inblob` (and optionally the
 * VMPL to `privlevel`), then reading `outblob` (the raw report) and `auxblob` (the GHCB certificate
 * table, where the host provides one). `generation` counts writes to the directory: it is read
 * before and after so that a concurrent writer cannot hand us a report for someone else's
 * REPORT_DATA. Node-only (file I/O); the file operations are injected so the protocol is testable
 * against a directory that behaves like the kernel's.
 */
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { parseCertTable } from '../evidence/snp/cert-table.js';
import type { SnpEvidence, SnpPlatform } from './types.js';

export const CONFIGFS_TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';

export interface TsmFileOps {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
}

const nodeFileOps: TsmFileOps = {
  mkdir: async (p) => {
    await mkdir(p);
  },
  rmdir: (p) => rmdir(p),
  readFile: async (p) => new Uint8Array(await readFile(p)),
  writeFile: (p, d) => writeFile(p, d),
};

const MAX_ATTEMPTS = 3;

/** The configfs-tsm providers Sealgate reads (the `provider` attribute): AMD SEV-SNP and Intel TDX. */
export type TsmProvider = 'sev_guest' | 'tdx_guest';

export interface TsmLocation {
  root?: string;
  fileOps?: TsmFileOps;
}

const fsOf = (at: TsmLocation): TsmFileOps => at.fileOps ?? nodeFileOps;

async function makeEntry(fs: TsmFileOps, root: string): Promise<string> {
  const dir = join(root, `sealgate-${toHex(crypto.getRandomValues(new Uint8Array(8)))}`);
  try {
    await fs.mkdir(dir);
  } catch (cause) {
    throw new SealgateError(
      'internal',
      `configfs-tsm: cannot create ${dir} (is configfs mounted?)`,
      {},
      { cause },
    );
  }
  return dir;
}

async function readText(fs: TsmFileOps, path: string): Promise<string> {
  return new TextDecoder().decode(await fs.readFile(path)).trim();
}

async function readOptional(fs: TsmFileOps, path: string): Promise<Uint8Array | null> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    // auxblob is absent or empty when the provider has none (TDX never; SNP when the host has no certificates).
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODATA') return null;
    throw e;
  }
}

/** Which provider the kernel's configfs-tsm serves here (one entry made, read, removed). */
export async function detectTsmProvider(at: TsmLocation = {}): Promise<string> {
  const fs = fsOf(at);
  const dir = await makeEntry(fs, at.root ?? CONFIGFS_TSM_REPORT_ROOT);
  try {
    return await readText(fs, join(dir, 'provider'));
  } finally {
    await fs.rmdir(dir).catch(() => undefined);
  }
}

/**
 * One report from `provider` for exactly `reportData`: the raw `outblob` and, where there is one,
 * `auxblob`. Refuses another provider (a TD asked for SEV-SNP evidence, or the reverse, fails closed).
 */
export async function requestTsmReport(
  at: TsmLocation,
  provider: TsmProvider,
  reportData: Uint8Array,
  privlevel?: number,
): Promise<{ outblob: Uint8Array; auxblob: Uint8Array | null }> {
  if (!(reportData instanceof Uint8Array) || reportData.length !== 64) {
    throw new SealgateError('invalid_argument', 'configfs-tsm: REPORT_DATA must be exactly 64 bytes');
  }
  const fs = fsOf(at);
  const dir = await makeEntry(fs, at.root ?? CONFIGFS_TSM_REPORT_ROOT);
  try {
    const actual = await readText(fs, join(dir, 'provider'));
    if (actual !== provider) {
      throw new SealgateError(
        'internal',
        `configfs-tsm: provider is ${JSON.stringify(actual)}, not ${provider}`,
      );
    }
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (privlevel !== undefined) await fs.writeFile(join(dir, 'privlevel'), String(privlevel));
      await fs.writeFile(join(dir, 'inblob'), reportData);
      const before = await readText(fs, join(dir, 'generation'));
      const outblob = await fs.readFile(join(dir, 'outblob'));
      const auxblob = await readOptional(fs, join(dir, 'auxblob'));
      const after = await readText(fs, join(dir, 'generation'));
      if (before === after) return { outblob, auxblob };
      // someone else wrote to our entry: ask again
    }
    throw new SealgateError(
      'internal',
      `configfs-tsm: generation kept changing over ${MAX_ATTEMPTS} attempts`,
    );
  } finally {
    await fs.rmdir(dir).catch(() => undefined);
  }
}

export class ConfigfsTsmPlatform implements SnpPlatform {
  readonly kind = 'sev-snp' as const;
  readonly simulated = false;
  readonly description: string;
  private readonly at: TsmLocation;

  constructor(opts: TsmLocation = {}) {
    this.at = opts;
    this.description = `configfs-tsm sev_guest at ${opts.root ?? CONFIGFS_TSM_REPORT_ROOT}`;
  }

  async getEvidence(reportData: Uint8Array, opts: { vmpl?: number } = {}): Promise<SnpEvidence> {
    if (opts.vmpl !== undefined && !(Number.isInteger(opts.vmpl) && opts.vmpl >= 0 && opts.vmpl <= 3)) {
      throw new SealgateError('invalid_argument', 'configfs-tsm: vmpl must be 0, 1, 2 or 3');
    }
    const { outblob, auxblob } = await requestTsmReport(this.at, 'sev_guest', reportData, opts.vmpl);
    const table = auxblob && auxblob.length > 0 ? parseCertTable(auxblob) : { other: [] };
    const certificates: SnpEvidence['certificates'] = {};
    if (table.vcek) certificates.vcek = table.vcek;
    if (table.vlek) certificates.vlek = table.vlek;
    if (table.ask) certificates.ask = table.ask;
    if (table.ark) certificates.ark = table.ark;
    return { report: outblob, certificates };
  }
}
