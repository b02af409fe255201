/**
 * An API key's limits, as its `apikey:<sha256>` KV entry states them (docs/gateway.md "Limits and
 * budgets"): `{"limits": {"rpm"?, "tpm"?, "budgetTokens"?, "budgetPeriod"?}}`. Absent: unlimited.
 *
 * Request rates go through Cloudflare's Workers Rate Limiting binding, whose limit and period are
 * fixed per binding (period 10 or 60 s). One binding per tier below, each counting per key over
 * 10 s windows: a key's `rpm` must be one of `RPM_TIERS` and is enforced as `rpm / 6` requests per
 * 10 s (finer than a minute, as OpenAI quantizes its own rpm). A hand-written entry naming another
 * rpm is enforced at the largest tier below it (stricter, never looser); below the smallest tier
 * the entry is refused as malformed.
 */

/** Requests per minute a key may be given; each is `RPM_<n>` in wrangler.toml, `n / 6` per 10 s. */
export const RPM_TIERS = [6, 12, 30, 60, 120, 300, 600, 1200, 3000, 6000, 12000, 30000] as const;
/** The Rate Limiting bindings' period, seconds (wrangler.toml `[ratelimits.simple] period`). */
export const RPM_PERIOD_SECONDS = 10;

export type BudgetPeriod = 'day' | 'month';

export interface KeyLimits {
  /** Requests per minute: one of `RPM_TIERS` (the enforced tier). */
  readonly rpm?: number;
  /** Tokens per minute (UTC minute), counted from each answer's usage. */
  readonly tpm?: number;
  /** Tokens per budget period (UTC day or month). */
  readonly budgetTokens?: number;
  readonly budgetPeriod?: BudgetPeriod;
}

/** The binding name of a tier (wrangler.toml `[[ratelimits]] name`). */
export function rpmBindingName(rpm: number): string {
  return `RPM_${rpm}`;
}

/** The tier enforced for `rpm`: the largest at or below it, or null below the smallest. */
export function rpmTier(rpm: number): number | null {
  let tier: number | null = null;
  for (const t of RPM_TIERS) if (t <= rpm) tier = t;
  return tier;
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 1;

/**
 * The limits of an entry's `limits` member: null when there are none, `'invalid'` when the member
 * is malformed (the key is then refused: a limit the gateway cannot read must not become no limit).
 */
import { isRecord } from '../../json/object-guards.js';
export function parseKeyLimits(value: unknown): KeyLimits | null | 'invalid' {
  if (value === undefined) return null;
  if (!isRecord(value)) return 'invalid';
  const { rpm, tpm, budgetTokens, budgetPeriod, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return 'invalid';
  if (rpm !== undefined && !(isCount(rpm) && rpmTier(rpm) !== null)) return 'invalid';
  if (tpm !== undefined && !isCount(tpm)) return 'invalid';
  if ((budgetTokens === undefined) !== (budgetPeriod === undefined)) return 'invalid';
  if (budgetTokens !== undefined && !isCount(budgetTokens)) return 'invalid';
  if (budgetPeriod !== undefined && budgetPeriod !== 'day' && budgetPeriod !== 'month') return 'invalid';
  const limits: KeyLimits = {
    ...(rpm !== undefined ? { rpm: rpmTier(rpm as number) as number } : {}),
    ...(tpm !== undefined ? { tpm: tpm as number } : {}),
    ...(budgetTokens !== undefined
      ? { budgetTokens: budgetTokens as number, budgetPeriod: budgetPeriod as BudgetPeriod }
      : {}),
  };
  return Object.keys(limits).length > 0 ? limits : null;
}

/** Whether answers of a key with these limits are metered (token counts settled in its DO). */
export function isMetered(limits: KeyLimits): boolean {
  return limits.tpm !== undefined || limits.budgetTokens !== undefined;
}
