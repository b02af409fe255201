/**
 * Development files on disk (Node only): the simulated chain a development stack keeps across
 * restarts — so the root its manifest pins stays the same — and the development manifest for it.
 * The chain file holds the simulated VCEK's private key: written with mode 0600, never committed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SealgateError } from '../errors.js';
import type { SnpProduct } from '../evidence/snp/index.js';
import {
  createDevChain,
  type DevChain,
  exportDevChain,
  importDevChain,
} from '../platform/simulator/index.js';
import { DEV_TCB, developmentManifestText } from './environment.js';

/** Reads the dev chain at `path`, or makes one and writes it there when the file does not exist. */
export async function loadOrCreateDevChain(
  path: string,
  opts: { now: Date; product?: SnpProduct },
): Promise<{ chain: DevChain; created: boolean }> {
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new SealgateError('invalid_argument', `dev chain ${path}: not JSON`, undefined, { cause });
    }
    return { chain: await importDevChain(json), created: false };
  }
  const product = opts.product ?? 'Milan';
  const chain = await createDevChain({ product, now: opts.now, tcb: DEV_TCB[product] });
  await mkdir(dirname(path), { recursive: true });
  // 'wx': never overwrite a chain another process wrote meanwhile (its root may be pinned already).
  await writeFile(path, `${JSON.stringify(await exportDevChain(chain), null, 2)}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  return { chain, created: true };
}

/**
 * `dir/dev-chain.json` (kept if present) and `dir/manifest.dev.json` (rewritten for that chain):
 * everything `SEALGATE_PLATFORM=simulator` needs.
 */
export async function writeDevelopmentFiles(
  dir: string,
  opts: { now: Date; product?: SnpProduct },
): Promise<{ chainPath: string; manifestPath: string; chain: DevChain; created: boolean }> {
  const chainPath = join(dir, 'dev-chain.json');
  const manifestPath = join(dir, 'manifest.dev.json');
  const { chain, created } = await loadOrCreateDevChain(chainPath, opts);
  await writeFile(manifestPath, await developmentManifestText(chain));
  return { chainPath, manifestPath, chain, created };
}
