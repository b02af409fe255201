/**
 * Development files on disk (Node only): the simulated chain a development stack keeps across
 * restarts — so the root its manifest pins stays the same — and the development manifest for it.
 * The chain file holds the simulated VCEK's private key: written with mode 0600, never committed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import type { SnpProduct } from '../evidence/snp/types.js';
import { createDevChain, type DevChain } from '../platform/simulator/dev-chain.js';
import { exportDevChain, importDevChain } from '../platform/simulator/dev-chain-json.js';
import {
  createGpuDeviceChain,
  exportGpuDeviceChain,
  type GpuDeviceChain,
  importGpuDeviceChain,
} from '../platform/simulator/gpu-device-chain.js';
import { createTdxDevChain, type TdxDevChain } from '../platform/simulator/tdx-chain.js';
import { exportTdxDevChain, importTdxDevChain } from '../platform/simulator/tdx-chain-json.js';
import { DEV_TCB, type DevGpus, developmentManifestText } from './environment.js';
import { tdxDevelopmentManifestText } from './environment-tdx.js';

/** The file's text, or undefined when it does not exist (any other error is thrown). */
async function readTextIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return undefined;
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new SealgateError('invalid_argument', `${what}: not JSON`, undefined, { cause });
  }
}

/**
 * A simulated chain's JSON, owner-only (it holds private keys). 'wx': never overwrite a chain
 * another process wrote meanwhile (its root may be pinned already).
 */
async function writeChainFile(path: string, exported: unknown, flag: 'wx' | 'w' = 'wx'): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(exported, null, 2)}\n`, { mode: 0o600, flag });
}

/** Reads the dev chain at `path`, or makes one and writes it there when the file does not exist. */
export async function loadOrCreateDevChain(
  path: string,
  opts: { now: Date; product?: SnpProduct },
): Promise<{ chain: DevChain; created: boolean }> {
  const text = await readTextIfPresent(path);
  if (text !== undefined)
    return { chain: await importDevChain(parseJson(text, `dev chain ${path}`)), created: false };
  const product = opts.product ?? 'Milan';
  const chain = await createDevChain({ product, now: opts.now, tcb: DEV_TCB[product] });
  await writeChainFile(path, await exportDevChain(chain));
  return { chain, created: true };
}

function isVersion1GpuChain(json: unknown): boolean {
  const o = json as { kind?: unknown; version?: unknown } | null;
  return o?.kind === 'sealgate-simulated-gpu-chain' && o.version === 1;
}

/**
 * The simulated GPU device chain at `path`, or a new one written there (mode 0600: it holds the
 * attestation key), kept like the SNP dev chain so the dev manifest's GPU root pin holds.
 */
export async function loadOrCreateGpuChain(path: string, opts: { now: Date }): Promise<GpuDeviceChain> {
  const text = await readTextIfPresent(path);
  const json = text === undefined ? undefined : parseJson(text, `GPU chain ${path}`);
  // Version 1 kept no CA keys, so no OCSP answer could be signed for it: it is replaced by a new
  // chain (the dev manifest is rewritten for it below).
  const replace = json !== undefined && isVersion1GpuChain(json);
  if (json !== undefined && !replace) {
    try {
      return await importGpuDeviceChain(json);
    } catch (cause) {
      throw new SealgateError('invalid_argument', `GPU chain ${path}: not a simulated GPU chain`, undefined, {
        cause,
      });
    }
  }
  const chain = await createGpuDeviceChain(opts);
  await writeChainFile(path, await exportGpuDeviceChain(chain), replace ? 'w' : 'wx');
  return chain;
}

/**
 * The development gateway's GATEWAY_SECRET, kept beside the dev chain (mode 0600) so that a
 * restarted `npm start` can still open the keys its Durable Object stored in `.wrangler/state`, and
 * so that the dev manifest keeps pinning the same gateway key.
 */
export async function devGatewaySecret(path: string): Promise<string> {
  try {
    const kept = (await readFile(path, 'utf8')).trim();
    if (kept.length >= 32) return kept;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** What `writeDevelopmentFiles` and its TDX twin wrote, and the chain, GPU chain and secret in it. */
export interface DevelopmentFiles<Chain> {
  chainPath: string;
  manifestPath: string;
  gpuChainPath: string;
  chain: Chain;
  gpuChain: GpuDeviceChain;
  created: boolean;
  gatewaySecret: string;
}

/**
 * `dir/dev-chain.json` (kept if present), `dir/gateway-secret` (kept if present),
 * `dir/gpu-chain.json` (kept if present) and `dir/manifest.dev.json` (rewritten for that chain,
 * pinning that gateway's key and, with `gpus` > 0, requiring that many simulated GPUs of the GPU
 * chain): everything `SEALGATE_PLATFORM=simulator` and the dev gateway need.
 */
export async function writeDevelopmentFiles(
  dir: string,
  opts: { now: Date; product?: SnpProduct; gpus?: number },
): Promise<DevelopmentFiles<DevChain>> {
  return await writeFilesOf(dir, opts, {
    chainFile: 'dev-chain.json',
    manifestFile: 'manifest.dev.json',
    loadChain: (path) => loadOrCreateDevChain(path, opts),
    manifestText: developmentManifestText,
  });
}

/** One TEE's development files: its chain's file and loader, its manifest's file and text. */
interface TeeFiles<Chain> {
  chainFile: string;
  manifestFile: string;
  loadChain: (path: string) => Promise<{ chain: Chain; created: boolean }>;
  manifestText: (chain: Chain, gatewaySecret: string, gpus: DevGpus) => Promise<string>;
}

/** The chain (kept if present), the shared gateway secret and GPU chain, and the manifest rewritten. */
async function writeFilesOf<Chain>(
  dir: string,
  opts: { now: Date; gpus?: number },
  tee: TeeFiles<Chain>,
): Promise<DevelopmentFiles<Chain>> {
  const chainPath = join(dir, tee.chainFile);
  const manifestPath = join(dir, tee.manifestFile);
  const gpuChainPath = join(dir, 'gpu-chain.json');
  const { chain, created } = await tee.loadChain(chainPath);
  const gatewaySecret = await devGatewaySecret(join(dir, 'gateway-secret'));
  const gpuChain = await loadOrCreateGpuChain(gpuChainPath, { now: opts.now });
  const gpus = { chain: gpuChain, count: opts.gpus ?? 0 };
  await writeFile(manifestPath, await tee.manifestText(chain, gatewaySecret, gpus));
  return { chainPath, manifestPath, gpuChainPath, chain, gpuChain, created, gatewaySecret };
}

/** Reads the SIMULATED TDX chain at `path`, or makes one and writes it there (mode 0600, never overwriting). */
export async function loadOrCreateTdxDevChain(
  path: string,
  opts: { now: Date },
): Promise<{ chain: TdxDevChain; created: boolean }> {
  const text = await readTextIfPresent(path);
  if (text !== undefined) {
    return { chain: await importTdxDevChain(parseJson(text, `TDX dev chain ${path}`)), created: false };
  }
  const chain = await createTdxDevChain({ now: opts.now });
  await writeChainFile(path, await exportTdxDevChain(chain));
  return { chain, created: true };
}

/**
 * The TDX twin of `writeDevelopmentFiles`: `dir/tdx-dev-chain.json` (kept if present),
 * `dir/gateway-secret` and `dir/gpu-chain.json` (both shared with the SEV-SNP setup) and
 * `dir/manifest.dev-tdx.json` (rewritten for that chain, with `gpus` > 0 requiring that many
 * simulated GPUs): what `SEALGATE_PLATFORM=simulator SEALGATE_TEE=tdx` and the dev gateway need.
 */
export async function writeTdxDevelopmentFiles(
  dir: string,
  opts: { now: Date; gpus?: number },
): Promise<DevelopmentFiles<TdxDevChain>> {
  return await writeFilesOf(dir, opts, {
    chainFile: 'tdx-dev-chain.json',
    manifestFile: 'manifest.dev-tdx.json',
    loadChain: (path) => loadOrCreateTdxDevChain(path, opts),
    manifestText: tdxDevelopmentManifestText,
  });
}
