/**
 * The docs promise closed sets of codes; these tests keep docs/errors.md and the code equal, and
 * the README's commands equal to package.json and .ci/run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';
import { HTTP_ERROR_CODES } from '../src/http/errors.js';
import { VIOLATION_CODES } from '../src/verify/violations.js';

const errorsDoc = readFileSync('docs/errors.md', 'utf8');

function section(title: string): string {
  const start = errorsDoc.indexOf(`## ${title}`);
  expect(start).toBeGreaterThan(-1);
  const end = errorsDoc.indexOf('\n## ', start + 3);
  return errorsDoc.slice(start, end === -1 ? undefined : end);
}

function documentedCodes(text: string): string[] {
  return [...text.matchAll(/^\| `([a-z][a-z0-9_]*)` \|/gm)].map((m) => m[1]!);
}

describe('docs/errors.md', () => {
  it('lists exactly the domain error codes', () => {
    expect(documentedCodes(section('1.')).sort()).toEqual([...ERROR_CODES].sort());
  });
  it('lists exactly the violation codes', () => {
    expect(documentedCodes(section('2.')).sort()).toEqual([...VIOLATION_CODES].sort());
  });
  it('lists exactly the HTTP error codes with their status', () => {
    const text = section('3.');
    expect(documentedCodes(text).sort()).toEqual(Object.keys(HTTP_ERROR_CODES).sort());
    for (const [code, status] of Object.entries(HTTP_ERROR_CODES)) {
      expect(text).toContain(`| \`${code}\` | ${status} |`);
    }
  });
});

describe('README and CI', () => {
  it('.ci/run runs exactly the README test command', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain('npm ci && npm test');
    expect(readme).toContain('npm ci && npm start');
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^npm ci && npm test$/m);
  });
});

describe('docs/benchmarks.md', () => {
  it('is exactly what bench/report.ts renders from bench/results.json (never edited by hand)', async () => {
    const { renderMarkdown } = await import('../bench/report/render.js');
    const results = JSON.parse(readFileSync('bench/results.json', 'utf8'));
    expect(readFileSync('docs/benchmarks.md', 'utf8')).toBe(renderMarkdown(results));
  });
});
