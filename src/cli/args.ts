/**
 * Strict command-line flag parsing for the `sealgate` CLI: every flag must be known, every value
 * present, no flag twice. A usage error is exit code 2 with one clear line on stderr.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  /** Flags that take a value, e.g. `report` for `--report FILE`. */
  values: readonly string[];
  /** Flags that are switches, e.g. `allow-debug`. */
  switches?: readonly string[];
  /** Value flags that must be present. */
  required?: readonly string[];
  /** Value flags that may be given more than once; all their values are in `lists`. */
  repeatable?: readonly string[];
  /** Value flags whose value may be the empty string (e.g. `--append ""`). */
  allowEmpty?: readonly string[];
  /** How many positional arguments are expected (default 0). */
  positionals?: number;
}

export interface ParsedFlags {
  values: Record<string, string>;
  /** Every value of each repeatable flag, in order (its last value is also in `values`). */
  lists: Record<string, string[]>;
  switches: Set<string>;
  positionals: string[];
}

export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const values: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const switches = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (spec.switches?.includes(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      switches.add(name);
      continue;
    }
    if (!spec.values.includes(name)) throw new UsageError(`unknown flag --${name}`);
    const repeatable = spec.repeatable?.includes(name) ?? false;
    if (name in values && !repeatable) throw new UsageError(`--${name} given twice`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    const emptyOk = spec.allowEmpty?.includes(name) ?? false;
    if (value === undefined || (value === '' && !emptyOk) || (eq === -1 && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value`);
    }
    values[name] = value;
    if (repeatable) lists[name] = [...(lists[name] ?? []), value];
  }
  for (const name of spec.required ?? []) {
    if (!(name in values)) throw new UsageError(`missing --${name}`);
  }
  const expected = spec.positionals ?? 0;
  if (positionals.length !== expected) {
    throw new UsageError(
      expected === 0
        ? `unexpected argument ${JSON.stringify(positionals[0])}`
        : `expected ${expected} argument${expected === 1 ? '' : 's'}, got ${positionals.length}`,
    );
  }
  return { values, lists, switches, positionals };
}

/** `--at` and friends: an ISO-8601 instant; anything Date cannot parse exactly is a usage error. */
export function parseInstant(flag: string, value: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(value)) {
    throw new UsageError(`--${flag}: not an ISO-8601 date or time: ${JSON.stringify(value)}`);
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--${flag}: not a valid date: ${JSON.stringify(value)}`);
  return d;
}
