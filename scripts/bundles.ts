/**
 * The programs that run inside a confidential VM (the attestation service, the AI worker) and the
 * verifier CLI, each bundled into one ES module that `node` runs without TypeScript, tsx or
 * node_modules.
 *
 * Why bundle: what runs in the VM is what its launch measurement covers (docs/deployment.md), so
 * it should be as small and as reviewable as the program itself. `npm ci` would put every
 * devDependency in the image (tsx and esbuild's native binary, which compile the sources at
 * start; wrangler, workerd, playwright-core): a trusted computing base of hundreds of MB that no
 * reviewer reads. A bundle holds exactly the modules the program imports — its `dependencies`,
 * never a devDependency (test/build/bundles.node.test.ts holds both) — and imports only Node's
 * built-in modules.
 *
 * Reproducible: esbuild's output is a function of its inputs and options; paths in it are relative
 * to the repository root (`absWorkingDir`), there is no timestamp and no source map, so two builds
 * of one commit with one lockfile give the same bytes wherever the clone is (the test builds twice;
 * checked once from a second clone at another path). A node_modules reached through a symlink
 * would put its real path into the bundle: build after `npm ci`, which makes none. Not minified, so the
 * measured bytes can be read; licence comments are kept at the end of each file (`legalComments`).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Output name (without `.mjs`) → entry module, relative to the repository root. */
export const BUNDLE_ENTRIES = {
  'attestation-service': 'src/attestation-service/main.ts',
  'ai-worker': 'src/ai-worker/main.ts',
  sealgate: 'scripts/sealgate.ts',
} as const;

export type BundleName = keyof typeof BUNDLE_ENTRIES;

export interface Bundle {
  name: BundleName;
  /** `<name>.mjs` */
  file: string;
  bytes: Uint8Array;
  /** Bare module names the bundle still imports at run time (Node's built-ins only). */
  externalImports: string[];
  /**
   * The installed packages whose code is inside the bundle, as package-lock.json names them
   * (`node_modules/hono`, `node_modules/a/node_modules/b`).
   */
  packages: string[];
}

/**
 * Some dependencies are CommonJS and `require` Node's built-ins; an ES module has no `require`,
 * so each bundle makes one from its own URL (node:module `createRequire`).
 */
const REQUIRE_SHIM =
  "import { createRequire as __sealgateCreateRequire } from 'node:module';\n" +
  'const require = __sealgateCreateRequire(import.meta.url);';

/** Builds every bundle in memory (nothing written). */
export async function buildBundles(): Promise<Bundle[]> {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: BUNDLE_ENTRIES,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    banner: { js: REQUIRE_SHIM },
    legalComments: 'eof',
    sourcemap: false,
    minify: false,
    keepNames: false,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  return (Object.keys(BUNDLE_ENTRIES) as BundleName[]).map((name) => {
    const file = `${name}.mjs`;
    const out = result.outputFiles.find((f) => f.path === join(REPO_ROOT, 'dist', file));
    const meta = result.metafile.outputs[`dist/${file}`];
    if (!out || !meta) throw new Error(`esbuild wrote no dist/${file}`);
    return {
      name,
      file,
      bytes: out.contents,
      externalImports: [...new Set(meta.imports.filter((i) => i.external).map((i) => i.path))].sort(),
      packages: packagesOf(meta),
    };
  });
}

const PACKAGE_DIR = /^((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)/;

/** The installed packages an output's code comes from: the innermost package folder of each input. */
function packagesOf(meta: Metafile['outputs'][string]): string[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = PACKAGE_DIR.exec(input);
    if (m) dirs.add(m[1]!.slice(0, -1));
  }
  return [...dirs].sort();
}
