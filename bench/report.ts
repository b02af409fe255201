/**
 * docs/benchmarks.md, generated from bench/results.json only (run `npm run bench`, or
 * `tsx bench/report.ts` to regenerate the page from an existing results.json). Every figure on the
 * page is one entry of the array, so the page cannot drift from the run. The page is made in
 * bench/report/: render.ts (the text), targets.ts (issue targets met or missed), floors.ts (the
 * physical floor beside each cost), format.ts, descriptions.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMarkdown } from './report/render.js';
import type { Result } from './results.js';

export function writeReport(root: string, results: Result[]): void {
  writeFileSync(join(root, 'docs/benchmarks.md'), renderMarkdown(results));
}

// `tsx bench/report.ts`: regenerate the page from the existing results.json.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, '..');
  const results = JSON.parse(readFileSync(join(root, 'bench/results.json'), 'utf8')) as Result[];
  writeReport(root, results);
}
