/**
 * A development environment on disk, as a worker or service program reads it: a fresh SIMULATED
 * environment (createDevelopmentEnvironment, now), its dev chain and manifest written to a new
 * temporary folder. The caller removes `dir`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { exportDevChain } from '../../src/platform/simulator/dev-chain-json.js';

export interface DevFiles {
  env: DevelopmentEnvironment;
  dir: string;
  /** `dir`/dev-chain.json: the chain as exportDevChain writes it. */
  chainPath: string;
  /** `dir`/manifest.dev.json: the environment's exact manifest bytes. */
  manifestPath: string;
}

export async function writeDevFiles(prefix: string): Promise<DevFiles> {
  const env = await createDevelopmentEnvironment({ now: new Date() });
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const chainPath = join(dir, 'dev-chain.json');
  const manifestPath = join(dir, 'manifest.dev.json');
  await writeFile(chainPath, JSON.stringify(await exportDevChain(env.chain)));
  await writeFile(manifestPath, env.manifestBytes);
  return { env, dir, chainPath, manifestPath };
}
