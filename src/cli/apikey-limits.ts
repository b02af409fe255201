/**
 * The limit flags of `sealgate apikey create|update` (docs/gateway.md "Limits and budgets"):
 * `--rpm N` (one of the gateway's tiers), `--tpm N`, `--budget-tokens N --budget-period day|month`;
 * on `update`, `none` removes a limit (`--budget-tokens none` removes the budget). The result is
 * checked with the gateway's own reader (`parseKeyLimits`), so the CLI cannot write an entry the
 * gateway would refuse.
 */
import { type KeyLimits, parseKeyLimits, RPM_TIERS } from '../gateway/limits/key-limits.js';
import { UsageError } from './args.js';

export const LIMIT_FLAGS = ['rpm', 'tpm', 'budget-tokens', 'budget-period'] as const;

function count(flag: string, value: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag}: a positive whole number${flag === 'rpm' ? '' : ' or none'}`);
  }
  return Number(value);
}

/** `current` with the limit flags in `values` applied; null when no limit is left. */
export function applyLimitFlags(
  current: KeyLimits | null,
  values: Readonly<Record<string, string>>,
  allowNone: boolean,
): KeyLimits | null {
  const next: Record<string, unknown> = { ...(current ?? {}) };
  const none = (flag: string) => allowNone && values[flag] === 'none';
  if (values.rpm !== undefined) {
    if (none('rpm')) delete next.rpm;
    else if (!(RPM_TIERS as readonly number[]).includes(count('rpm', values.rpm))) {
      throw new UsageError(`--rpm: one of ${RPM_TIERS.join(', ')} (the gateway's Rate Limiting bindings)`);
    } else next.rpm = Number(values.rpm);
  }
  if (values.tpm !== undefined) {
    if (none('tpm')) delete next.tpm;
    else next.tpm = count('tpm', values.tpm);
  }
  if (values['budget-tokens'] !== undefined) {
    if (none('budget-tokens')) {
      delete next.budgetTokens;
      delete next.budgetPeriod;
    } else next.budgetTokens = count('budget-tokens', values['budget-tokens']);
  }
  const period = values['budget-period'];
  if (period !== undefined) {
    if (period !== 'day' && period !== 'month') throw new UsageError('--budget-period: day or month');
    next.budgetPeriod = period;
  }
  if ((next.budgetTokens === undefined) !== (next.budgetPeriod === undefined)) {
    throw new UsageError('--budget-tokens and --budget-period go together');
  }
  const limits = parseKeyLimits(next);
  if (limits === 'invalid') throw new UsageError('these limits are not valid');
  return limits;
}
