/**
 * The gateway's clock: `Date.now()` read at call time (never cached at module load), so tests can
 * move time with `vi.spyOn(Date, 'now')` — which also moves it inside the Durable Object, since in
 * tests it runs in the same isolate.
 */
export function nowMs(): number {
  return Date.now();
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
