/**
 * Real hardware: Linux's configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm-report,
 * Linux ≥ 6.7). A report is requested by creating a directory under
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
import type { AttestationPlatform, SnpEvidence } from './types.js';

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

export class ConfigfsTsmPlatform implements AttestationPlatform {
  readonly kind = 'sev-snp' as const;
  readonly simulated = false;
  readonly description: string;
  private readonly root: string;
  private readonly fs: TsmFileOps;

  constructor(opts: { root?: string; fileOps?: TsmFileOps } = {}) {
    this.root = opts.root ?? CONFIGFS_TSM_REPORT_ROOT;
    this.fs = opts.fileOps ?? nodeFileOps;
    this.description = `configfs-tsm at ${this.root}`;
  }

  async getEvidence(reportData: Uint8Array, opts: { vmpl?: number } = {}): Promise<SnpEvidence> {
    if (!(reportData instanceof Uint8Array) || reportData.length !== 64) {
      throw new SealgateError('invalid_argument', 'configfs-tsm: REPORT_DATA must be exactly 64 bytes');
    }
    if (opts.vmpl !== undefined && !(Number.isInteger(opts.vmpl) && opts.vmpl >= 0 && opts.vmpl <= 3)) {
      throw new SealgateError('invalid_argument', 'configfs-tsm: vmpl must be 0, 1, 2 or 3');
    }
    const dir = join(this.root, `sealgate-${toHex(crypto.getRandomValues(new Uint8Array(8)))}`);
    try {
      await this.fs.mkdir(dir);
    } catch (cause) {
      throw new SealgateError(
        'internal',
        `configfs-tsm: cannot create ${dir} (is configfs mounted?)`,
        {},
        { cause },
      );
    }
    try {
      const provider = new TextDecoder().decode(await this.fs.readFile(join(dir, 'provider'))).trim();
      if (provider !== 'sev_guest') {
        throw new SealgateError(
          'internal',
          `configfs-tsm: provider is ${JSON.stringify(provider)}, not sev_guest`,
        );
      }
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        if (opts.vmpl !== undefined) await this.fs.writeFile(join(dir, 'privlevel'), String(opts.vmpl));
        await this.fs.writeFile(join(dir, 'inblob'), reportData);
        const before = await this.readGeneration(dir);
        const report = await this.fs.readFile(join(dir, 'outblob'));
        const aux = await this.readOptional(join(dir, 'auxblob'));
        const after = await this.readGeneration(dir);
        if (before !== after) continue; // someone else wrote to our entry: ask again
        const table = aux && aux.length > 0 ? parseCertTable(aux) : { other: [] };
        const certificates: SnpEvidence['certificates'] = {};
        if (table.vcek) certificates.vcek = table.vcek;
        if (table.vlek) certificates.vlek = table.vlek;
        if (table.ask) certificates.ask = table.ask;
        if (table.ark) certificates.ark = table.ark;
        return { report, certificates };
      }
      throw new SealgateError(
        'internal',
        `configfs-tsm: generation kept changing over ${MAX_ATTEMPTS} attempts`,
      );
    } finally {
      await this.fs.rmdir(dir).catch(() => undefined);
    }
  }

  private async readGeneration(dir: string): Promise<string> {
    return new TextDecoder().decode(await this.fs.readFile(join(dir, 'generation'))).trim();
  }

  private async readOptional(path: string): Promise<Uint8Array | null> {
    try {
      return await this.fs.readFile(path);
    } catch (e) {
      // auxblob is absent or empty when the host supplies no certificates (then KDS serves them).
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENODATA') {
        return null;
      }
      throw e;
    }
  }
}
