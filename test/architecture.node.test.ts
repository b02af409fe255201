/**
 * The import rules of docs/architecture.md, checked on the source: the domain folders and the
 * neutral homes are runtime-neutral (no `node:*`, no Hono, no `cloudflare:*`: they run in workerd
 * and in Node alike, with time, fetchers and crypto backends passed in), and no folder's
 * `index.ts` stands between folders (imports name the defining file).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Folders (under src/) and files that must stay runtime-neutral. */
const RUNTIME_NEUTRAL = [
  'bytes.ts',
  'errors.ts',
  'json',
  'der',
  'http',
  'evidence',
  'verify',
  'policy',
  'envelope',
  'keys',
  'receipts',
  'attestation',
  'api',
  'service-client',
] as const;

/** Folders that wire the domain to a runtime; no runtime-neutral module imports them. */
const RUNTIME_FOLDERS = ['gateway', 'attestation-service', 'ai-worker', 'platform', 'cli', 'dev'] as const;

const RUNTIME_SPECIFIC = /^(node:|cloudflare:|hono(\/|$)|@hono\/)/;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) out.push(...sourceFiles(abs));
    else if (name.endsWith('.ts')) out.push(abs);
  }
  return out;
}

function importSpecifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const statics = [...text.matchAll(/(?:^|\n)\s*(?:import|export)(?:[^'";]*?from)?\s*'([^']+)'/g)];
  const dynamics = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)];
  return [...statics, ...dynamics].map((m) => m[1]!);
}

describe('docs/architecture.md import rules', () => {
  it.each(RUNTIME_NEUTRAL)('src/%s imports no node:*, Hono or cloudflare:*', (entry) => {
    const abs = join(SRC, entry);
    const files = statSync(abs).isDirectory() ? sourceFiles(abs) : [abs];
    const offenders = files.flatMap((f) =>
      importSpecifiers(f)
        .filter((s) => RUNTIME_SPECIFIC.test(s))
        .map((s) => `${relative(ROOT, f)}: ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it.each(RUNTIME_NEUTRAL)('src/%s imports no runtime folder', (entry) => {
    const abs = join(SRC, entry);
    const files = statSync(abs).isDirectory() ? sourceFiles(abs) : [abs];
    const offenders = files.flatMap((f) =>
      importSpecifiers(f)
        .filter((s) => s.startsWith('.'))
        .map((s) => relative(SRC, join(f, '..', s)))
        .filter((target) => RUNTIME_FOLDERS.some((r) => target.startsWith(`${r}/`)))
        .map((target) => `${relative(ROOT, f)}: ${target}`),
    );
    expect(offenders).toEqual([]);
  });

  it('no index.ts barrels between folders', () => {
    const barrels = sourceFiles(SRC).filter((f) => f.endsWith('/index.ts'));
    expect(barrels.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('every src/ file the docs and the README name exists', () => {
    const texts = [
      join(ROOT, 'README.md'),
      ...readdirSync(join(ROOT, 'docs')).map((f) => join(ROOT, 'docs', f)),
    ];
    const named = texts.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/\bsrc\/[\w/.-]+\.ts\b/g)].map((m) => m[0]),
    );
    const missing = [...new Set(named)].filter((p) => !existsSync(join(ROOT, p)));
    expect(missing).toEqual([]);
  });

  it('the rules list every runtime-neutral folder that docs/architecture.md names', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const missing = RUNTIME_NEUTRAL.filter((e) => !doc.includes(`src/${e}`) && !doc.includes(`\`${e}/\``));
    expect(missing).toEqual([]);
  });
});
