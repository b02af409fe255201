/**
 * `npm run bench`: bench/run.ts bundled by esbuild with the options of the production bundles
 * (scripts/bundles.ts: ES module for Node 24, not minified, `keepNames: false`), then run by plain
 * `node`. What runs in Node during the bench — the AI worker, the attestation service, the Node
 * hop, the verifiers of the micro cases — is then compiled as in a confidential VM, not by tsx:
 * tsx compiles with esbuild's `keepNames`, which wraps every function made at run time in a
 * naming call (`__name`), a cost the deployed programs do not pay (docs/benchmarks.md "Method").
 *
 * Packages stay external (loaded from node_modules as published): miniflare, wrangler and
 * esbuild bring native binaries and worker files of their own. Each module keeps its own
 * `import.meta.url` and `import.meta.dirname` (replaced by its source path at bundle time), so
 * paths relative to a bench file resolve as they do under tsx. Arguments and environment pass
 * through; the exit code is the run's.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = join(import.meta.dirname, '..');
const outfile = join(root, 'bench/.build/run.mjs');

/** `import.meta.url` / `.dirname` / `.filename` of each source module, as it would see them unbundled. */
const ownImportMeta: Plugin = {
  name: 'own-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents, loader: 'ts' };
    });
  },
};

await build({
  absWorkingDir: root,
  entryPoints: ['bench/run.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  packages: 'external',
  minify: false,
  keepNames: false,
  sourcemap: false,
  outfile,
  plugins: [ownImportMeta],
  logLevel: 'warning',
});

const child = spawn(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
