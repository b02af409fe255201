import { describe, expect, it } from 'vitest';
import { parseFlags, parseInstant, UsageError } from '../../src/cli/args.js';

const spec = { values: ['report', 'at'], switches: ['allow-debug'], required: ['report'] };

describe('parseFlags', () => {
  it('reads values in both spellings and switches', () => {
    const p = parseFlags(['--report', 'r.bin', '--at=2024-01-01', '--allow-debug'], spec);
    expect(p.values).toEqual({ report: 'r.bin', at: '2024-01-01' });
    expect(p.switches.has('allow-debug')).toBe(true);
  });
  it.each([
    [['--report'], '--report needs a value'],
    [['--report', '--at', 'x'], '--report needs a value'],
    [['--nope', 'x', '--report', 'r'], 'unknown flag --nope'],
    [['--report', 'a', '--report', 'b'], '--report given twice'],
    [['--at', 'x'], 'missing --report'],
    [['--report', 'a', 'extra'], 'unexpected argument "extra"'],
    [['--report', 'a', '--allow-debug=1'], '--allow-debug takes no value'],
  ])('refuses %j with %s', (argv, message) => {
    expect(() => parseFlags(argv, spec)).toThrow(new UsageError(message));
  });
  it('repeatable flags collect every value; allowEmpty flags take ""', () => {
    const more = { values: ['m', 'append'], repeatable: ['m'], allowEmpty: ['append'] };
    const p = parseFlags(['--m', 'a', '--m=b', '--append', ''], more);
    expect(p.lists).toEqual({ m: ['a', 'b'] });
    expect(p.values.append).toBe('');
    expect(() => parseFlags(['--m', ''], more)).toThrow(new UsageError('--m needs a value'));
    expect(() => parseFlags(['--append', 'a', '--append', 'b'], more)).toThrow(
      new UsageError('--append given twice'),
    );
  });
});

describe('parseInstant', () => {
  it('accepts dates and instants', () => {
    expect(parseInstant('at', '2024-12-11').toISOString()).toBe('2024-12-11T00:00:00.000Z');
    expect(parseInstant('at', '2024-12-11T10:00:00Z').toISOString()).toBe('2024-12-11T10:00:00.000Z');
  });
  it.each(['yesterday', '2024-13-45', '12/11/2024'])('refuses %s', (v) => {
    expect(() => parseInstant('at', v)).toThrow(UsageError);
  });
});
