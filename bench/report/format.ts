/** How the page spells figures: units, signs, ratios, and the tables of results. */
import type { Result } from '../results.js';
import { describe } from './descriptions.js';

export function fmt(x: number | null, unit: string): string {
  if (x === null) return '—';
  if (unit === 'ms') {
    if (Math.abs(x) < 1) return `${(x * 1000).toFixed(1)} µs`;
    return `${x.toFixed(2)} ms`;
  }
  if (unit === 'count') return String(Math.round(x));
  if (unit === 'req/s') return `${x.toFixed(1)} req/s`;
  if (unit === 'MiB') return `${x.toFixed(1)} MiB`;
  if (unit === 's') return `${x.toFixed(1)} s`;
  return `${x} ${unit}`;
}

/** A difference with its sign: +1.2 MiB, −0.4 MiB. */
export const signed = (v: number, unit: string) => `${v < 0 ? '−' : '+'}${fmt(Math.abs(v), unit)}`;
export const ratio = (r: Result) => (r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`);

export function table(rows: Result[], baselineLabel: string, withWhat: boolean): string {
  const head = `| figure | value | ${baselineLabel} | ratio |${withWhat ? ' what |' : ''}\n|---|---|---|---|${withWhat ? '---|' : ''}`;
  const lines = rows.map(
    (r) =>
      `| \`${r.name}\` | ${fmt(r.value, r.unit)} | ${fmt(r.baseline, r.unit)} | ${ratio(r)} |${withWhat ? ` ${describe(r.name)} |` : ''}`,
  );
  return [head, ...lines].join('\n');
}

/** Figures merged in from later partial runs (BENCH_MERGE): which, when, under what load. */
export function mergedRuns(results: Result[]): string {
  const first = results[0]?.machine.ranAt;
  const later = new Map<string, { load: number; names: string[] }>();
  for (const r of results) {
    if (r.machine.ranAt === first) continue;
    const e = later.get(r.machine.ranAt) ?? { load: r.machine.loadAverage1m, names: [] };
    e.names.push(r.name);
    later.set(r.machine.ranAt, e);
  }
  const lines = [...later].map(
    ([at, e]) => `\n- ${at} (load average ${e.load}): ${e.names.map((n) => `\`${n}\``).join(', ')}`,
  );
  return lines.length ? `\n\nFigures from later partial runs (\`BENCH_MERGE=1\`):${lines.join('')}` : '';
}
