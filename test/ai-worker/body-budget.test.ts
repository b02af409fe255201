/** The AI worker's budget of request-body bytes in flight (src/ai-worker/body-budget.ts). */
import { describe, expect, it } from 'vitest';
import { BodyBudget, DEFAULT_BODY_BYTES_IN_FLIGHT } from '../../src/ai-worker/body-budget.js';

describe('BodyBudget', () => {
  it('takes bytes up to its limit across requests, never past it, and gives back what each took', () => {
    const budget = new BodyBudget(100);
    const a = budget.hold();
    const b = budget.hold();
    expect(a.take(60)).toBe(true);
    expect(b.take(30)).toBe(true);
    expect(b.take(11)).toBe(false); // 101 would pass the limit: nothing added
    expect(budget.inFlight).toBe(90);
    expect(b.take(10)).toBe(true);
    expect(budget.inFlight).toBe(100);
    a.release();
    expect(budget.inFlight).toBe(40);
    a.release(); // idempotent
    expect(budget.inFlight).toBe(40);
    b.release();
    expect(budget.inFlight).toBe(0);
  });

  it('defaults to 1 GiB and refuses a limit that is not a positive integer', () => {
    expect(new BodyBudget().limitBytes).toBe(DEFAULT_BODY_BYTES_IN_FLIGHT);
    expect(DEFAULT_BODY_BYTES_IN_FLIGHT).toBe(1024 ** 3);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new BodyBudget(bad)).toThrow(RangeError);
    }
  });
});
