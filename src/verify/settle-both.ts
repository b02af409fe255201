/**
 * Two independent checks in flight at once, and neither result used before both settled: the SNP
 * verifier runs the report signature (on Node's thread pool) beside the chain checks
 * (verify-snp.ts). Invariants:
 *   - both promises are awaited to the end, whatever either does — no check is abandoned half-run
 *     and no rejection is left unhandled (`Promise.allSettled`, ECMA-262 §27.2.4.3, not
 *     `Promise.all`, which settles at the first rejection and leaves the other running);
 *   - a rejection is rethrown only after both settled, `first`'s before `second`'s (the caller
 *     passes the earlier step first, so an error surfaces as it did when the steps ran in turn).
 */
export async function settleBoth<A, B>(first: Promise<A>, second: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}
