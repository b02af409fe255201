/**
 * Node side only (imported by vitest.config.ts): reads the real hardware vectors from
 * SEALGATE_TESTDATA (default ../shared/testdata) and hands them to tests as base64 strings through
 * vitest's `provide`, because tests inside workerd cannot read the file system.
 * The vectors are never copied into the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface ProvidedVectors {
  /** Absolute path that was read, or null. */
  dir: string | null;
  /** Why vectors are missing (shown as the skip reason), or null when present. */
  missing: string | null;
  /** relative path → base64 of the file contents. */
  files: Record<string, string>;
}

const SUBDIRS = ['snp', 'amd-roots', 'tdx', 'nvidia', 'snp-measure'];
const MAX_FILE = 2 * 1024 * 1024;

export function loadVectors(dirFromEnv: string | undefined, root: string): ProvidedVectors {
  const dir = resolve(root, dirFromEnv ?? '../shared/testdata');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return { dir: null, missing: `real vectors not found at ${dir} (set SEALGATE_TESTDATA)`, files: {} };
  }
  const files: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = join(dir, rel);
    for (const name of readdirSync(abs)) {
      const childRel = rel ? `${rel}/${name}` : name;
      const st = statSync(join(abs, name));
      if (st.isDirectory()) walk(childRel);
      else if (st.size <= MAX_FILE) files[childRel] = readFileSync(join(abs, name)).toString('base64');
    }
  };
  for (const sub of SUBDIRS) if (existsSync(join(dir, sub))) walk(sub);
  return { dir, missing: null, files };
}
