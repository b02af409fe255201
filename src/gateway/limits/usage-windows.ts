/**
 * A key's token usage in the windows its limits count (pure; the KeyUsage Durable Object keeps one
 * per key): the current UTC minute (tpm), the current UTC day and month (budgets). Windows are
 * fixed and aligned to UTC, so a window that has passed counts as zero without any reset step.
 */
import type { BudgetPeriod, KeyLimits } from './key-limits.js';

export interface UsageStanding {
  /** The UTC minute counted, as `floor(ms / 60000)`. */
  readonly minute: number;
  readonly minuteTokens: number;
  /** `YYYY-MM-DD` (UTC). */
  readonly day: string;
  readonly dayTokens: number;
  /** `YYYY-MM` (UTC). */
  readonly month: string;
  readonly monthTokens: number;
}

const MINUTE_MS = 60_000;

/**
 * The most tokens one `KeyUsage.record` takes (it refuses more): far over any budget, so a batch
 * capped at it still stops the key everywhere, and a model server's absurd count cannot make every
 * later flush of the key fail.
 */
export const MAX_TOKENS_PER_RECORD = 2 ** 32;

const DAY_MS = 86_400_000;

/**
 * The UTC day and month of `ms`. JavaScript time has no leap seconds (ECMA-262 §21.4.1.1: every
 * day is exactly 86 400 000 ms), so `floor(ms / DAY_MS)` names the UTC day, and its strings are
 * kept until the day changes: the metered request path asks on every request and settlement,
 * where formatting a Date each time showed in the gateway's profile (~0.05 ms per metered stream).
 */
let calendar = { dayNumber: Number.NaN, day: '', month: '' };
function calendarOf(ms: number): { day: string; month: string } {
  const dayNumber = Math.floor(ms / DAY_MS);
  if (dayNumber !== calendar.dayNumber) {
    const iso = new Date(dayNumber * DAY_MS).toISOString();
    calendar = { dayNumber, day: iso.slice(0, 10), month: iso.slice(0, 7) };
  }
  return calendar;
}

/** `standing` seen at `atMs`: each window that has passed counts zero. */
export function currentStanding(standing: UsageStanding | undefined, atMs: number): UsageStanding {
  const minute = Math.floor(atMs / MINUTE_MS);
  const { day, month } = calendarOf(atMs);
  return {
    minute,
    minuteTokens: standing?.minute === minute ? standing.minuteTokens : 0,
    day,
    dayTokens: standing?.day === day ? standing.dayTokens : 0,
    month,
    monthTokens: standing?.month === month ? standing.monthTokens : 0,
  };
}

/** `standing` after an answer of `tokens` that ended at `atMs`. */
export function addUsage(standing: UsageStanding | undefined, tokens: number, atMs: number): UsageStanding {
  const now = currentStanding(standing, atMs);
  return {
    ...now,
    minuteTokens: now.minuteTokens + tokens,
    dayTokens: now.dayTokens + tokens,
    monthTokens: now.monthTokens + tokens,
  };
}

/** Tokens used in the budget period containing `atMs`. */
export function budgetUsed(standing: UsageStanding, period: BudgetPeriod): number {
  return period === 'day' ? standing.dayTokens : standing.monthTokens;
}

/** Milliseconds from `atMs` to the end of its UTC minute. */
export function msToMinuteEnd(atMs: number): number {
  return MINUTE_MS - (atMs % MINUTE_MS);
}

/** Milliseconds from `atMs` to the end of its budget period (UTC day or month). */
export function msToPeriodEnd(atMs: number, period: BudgetPeriod): number {
  const d = new Date(atMs);
  const end =
    period === 'day'
      ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
      : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return end - atMs;
}

/** Why a key may not start a request now, from its standing: over its budget, or its tpm. */
export function tokenRefusal(
  limits: KeyLimits,
  standing: UsageStanding,
): 'insufficient_quota' | 'rate_limit_exceeded' | null {
  if (limits.budgetTokens !== undefined && limits.budgetPeriod !== undefined) {
    if (budgetUsed(standing, limits.budgetPeriod) >= limits.budgetTokens) return 'insufficient_quota';
  }
  if (limits.tpm !== undefined && standing.minuteTokens >= limits.tpm) return 'rate_limit_exceeded';
  return null;
}
