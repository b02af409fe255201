/**
 * The import rules of docs/architecture.md, checked on the source: the domain folders and the
 * neutral homes are runtime-neutral (no `node:*`, no Hono, no `cloudflare:*`: they run in workerd
 * and in Node alike, with time, fetchers and crypto backends passed in), and no folder's
 * `index.ts` stands between folders (imports name the defining file). And the house style's
 * length rule: no function grows past the longest its folder holds.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
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

/**
 * A function fits on a screen (parse → verify → validate, a row of small named checks joined at the
 * top). HOUSE_MAX lines for a folder not named in LONGEST (the verification folders evidence,
 * verify, policy and attestation among them); LONGEST holds each other folder's longest function as
 * it is, a ceiling no function may grow past: when a cut shortens the longest, lower its number,
 * and drop the folder once it is within HOUSE_MAX (a test holds the ceilings tight). Lines count from the function's first token (its
 * JSDoc not counted) to its closing brace; a function inside another counts in both.
 */
const HOUSE_MAX = 50;
const LONGEST: Readonly<Record<string, number>> = {
  'ai-worker': 67,
  gateway: 59,
  der: 67,
  'service-client': 70,
  platform: 72,
  model: 68,
  'attestation-service': 67,
  cli: 67,
  envelope: 63,
  dev: 56,
};

interface FunctionLength {
  where: string;
  name: string;
  lines: number;
}

function functionLengths(fileName: string, text: string): FunctionLength[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: FunctionLength[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.end).line;
      const named =
        (node as { name?: ts.Node }).name ??
        (ts.isVariableDeclaration(node.parent) ? node.parent.name : null);
      const name = named ? named.getText(sf) : '(anonymous)';
      out.push({ where: `${fileName}:${first + 1}`, name, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('house style: function length', () => {
  it('measures a function from its first line to its closing brace, nested ones too', () => {
    const body = Array.from({ length: 59 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = `/** Not counted. */\nexport function long(): void {\n${body}\n  const f = () => {\n    return 1;\n  };\n}\n`;
    expect(functionLengths('x.ts', text).map((f) => [f.name, f.lines])).toEqual([
      ['long', 64],
      ['f', 3],
    ]);
  });

  it("no function in src/ is longer than its folder's ceiling", () => {
    const over = sourceFiles(SRC).flatMap((f) => {
      const folder = relative(SRC, f).split('/')[0]!;
      const ceiling = LONGEST[folder] ?? HOUSE_MAX;
      return functionLengths(relative(ROOT, f), readFileSync(f, 'utf8'))
        .filter((fn) => fn.lines > ceiling)
        .map((fn) => `${fn.where} ${fn.name}: ${fn.lines} lines (ceiling ${ceiling})`);
    });
    expect(over).toEqual([]);
  });

  it("each ceiling in LONGEST is its folder's longest function today, and over HOUSE_MAX", () => {
    // A cut that shortens a folder's longest function must lower its ceiling (or drop the folder
    // once it is within HOUSE_MAX): a loose ceiling would let the next function grow back unseen.
    const longest = new Map<string, number>();
    for (const f of sourceFiles(SRC)) {
      const folder = relative(SRC, f).split('/')[0]!;
      for (const fn of functionLengths(relative(ROOT, f), readFileSync(f, 'utf8'))) {
        longest.set(folder, Math.max(longest.get(folder) ?? 0, fn.lines));
      }
    }
    const loose = Object.entries(LONGEST)
      .filter(([folder, ceiling]) => ceiling !== longest.get(folder) || ceiling <= HOUSE_MAX)
      .map(([folder, ceiling]) => `${folder}: ceiling ${ceiling}, longest ${longest.get(folder) ?? 'none'}`);
    expect(loose).toEqual([]);
  });
});
