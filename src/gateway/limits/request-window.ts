/**
 * The isolate's own count of each rate-limited key's requests in the current 10 s window (aligned
 * to the clock, as the Rate Limiting binding's windows are in Miniflare). The binding decides; it
 * tells only yes or no, so this count is what `x-ratelimit-remaining-requests` and
 * `x-ratelimit-reset-requests` report: an estimate from one isolate, never a decision.
 */
import { RPM_PERIOD_SECONDS } from './key-limits.js';

const WINDOW_MS = RPM_PERIOD_SECONDS * 1000;
const MAX_KEYS = 1024;

const windows = new Map<string, { window: number; count: number }>();

export interface RequestWindow {
  /** Requests the binding allows per window (`rpm / 6`). */
  readonly perWindow: number;
  /** Requests this isolate counted in the window, this one included. */
  readonly count: number;
  /** Milliseconds until the window ends. */
  readonly resetMs: number;
}

/** Counts one request of `hash` (a key of `rpm`) at `now`. */
export function countRequest(hash: string, rpm: number, now: number): RequestWindow {
  const window = Math.floor(now / WINDOW_MS);
  let entry = windows.get(hash);
  if (entry?.window !== window) {
    if (!entry && windows.size >= MAX_KEYS) windows.delete(windows.keys().next().value as string);
    entry = { window, count: 0 };
    windows.set(hash, entry);
  }
  entry.count += 1;
  return {
    perWindow: Math.floor((rpm * RPM_PERIOD_SECONDS) / 60),
    count: entry.count,
    resetMs: (window + 1) * WINDOW_MS - now,
  };
}
