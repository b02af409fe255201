/**
 * One esbuild bundle of a bench Worker for Miniflare's workerd (bench/workerd/*.ts): ES module,
 * the workerd / worker / browser export conditions, `node:*` left to nodejs_compat and `cloudflare:*` to workerd. Returns the
 * Worker's script options for `convertV4MiniflareOptions`, with wrangler.toml's compatibility date
 * and flags. `plugins`: esbuild plugins (bench/macro/ablate/plan.ts swaps modules for stand-ins).
 */
import { basename, join } from 'node:path';
import { build, type Plugin } from 'esbuild';

export async function bundleForWorkerd(entry: string, dir: string, plugins: Plugin[] = []) {
  const scriptPath = join(dir, basename(entry).replace(/\.ts$/, '.mjs'));
  await build({
    plugins,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser', 'import'],
    external: ['node:*', 'cloudflare:*'],
    outfile: scriptPath,
    logLevel: 'warning',
  });
  return {
    modules: true,
    scriptPath,
    modulesRoot: dir,
    compatibilityDate: '2025-06-01',
    compatibilityFlags: ['nodejs_compat'],
  };
}
