/**
 * OpenAI's rate-limit headers (OpenAI API reference, "Rate limits"): on every answer of a key with
 * a request rate, `x-ratelimit-{limit,remaining,reset}-requests`; with a token rate, the same three
 * for `-tokens`. A key with a budget also gets `x-sealgate-budget-{limit,remaining,reset}-tokens`.
 * Resets are durations as OpenAI writes them (`7s`, `1m0s`…).
 */
import type { KeyLimits } from './key-limits.js';
import type { RequestWindow } from './request-window.js';
import { budgetUsed, msToMinuteEnd, msToPeriodEnd, type UsageStanding } from './usage-windows.js';

/** A duration in OpenAI's style, whole seconds rounded up: `0s`, `7s`, `1m0s`, `2h3m4s`. */
export function duration(ms: number): string {
  let s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  return m > 0 ? `${m}m${s}s` : `${s}s`;
}

export function limitHeaders(input: {
  limits: KeyLimits;
  requests: RequestWindow | null;
  standing: UsageStanding | null;
  now: number;
}): Record<string, string> {
  const { limits, requests, standing, now } = input;
  const out: Record<string, string> = {};
  if (limits.rpm !== undefined && requests) {
    out['x-ratelimit-limit-requests'] = String(limits.rpm);
    out['x-ratelimit-remaining-requests'] = String(Math.max(0, requests.perWindow - requests.count));
    out['x-ratelimit-reset-requests'] = duration(requests.resetMs);
  }
  if (limits.tpm !== undefined && standing) {
    out['x-ratelimit-limit-tokens'] = String(limits.tpm);
    out['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tpm - standing.minuteTokens));
    out['x-ratelimit-reset-tokens'] = duration(msToMinuteEnd(now));
  }
  if (limits.budgetTokens !== undefined && limits.budgetPeriod !== undefined && standing) {
    const left = limits.budgetTokens - budgetUsed(standing, limits.budgetPeriod);
    out['x-sealgate-budget-limit-tokens'] = String(limits.budgetTokens);
    out['x-sealgate-budget-remaining-tokens'] = String(Math.max(0, left));
    out['x-sealgate-budget-reset-tokens'] = duration(msToPeriodEnd(now, limits.budgetPeriod));
  }
  return out;
}
