/**
 * How many times the `×8` ablations run their step (bench/macro/ablate/plan.ts): a step that cannot
 * be removed is measured as (variant − A) / (REPEAT − 1), its in-place cost amplified above the
 * host's noise (the slope method of bench/macro/slope.ts with K = 1 and REPEAT).
 */
export const REPEAT = 8;

/** Runs `step` REPEAT times, one after another; resolves with the last result. */
export async function repeated<T>(step: () => Promise<T>): Promise<T> {
  for (let i = 1; i < REPEAT; i++) await step();
  return await step();
}
