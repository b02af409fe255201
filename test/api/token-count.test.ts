/** Token counts read from a model's answer (src/api/token-count.ts) and the translations using them. */
import { describe, expect, it } from 'vitest';
import { anthropicUsage } from '../../src/api/anthropic/response.js';
import { responsesUsage } from '../../src/api/responses/response.js';
import { sumTokenCounts, tokenCount } from '../../src/api/token-count.js';
import { parseKeepingExactNumbers } from '../../src/json/exact-numbers.js';

const MAX = Number.MAX_SAFE_INTEGER;
/** A usage object as the worker's answer parse keeps it: counts past 2^53 as their digits. */
const kept = (json: string) => parseKeepingExactNumbers(json) as Record<string, unknown>;

describe('tokenCount', () => {
  it('reads non-negative integers as they are and fractional counts rounded up', () => {
    expect([0, 7, MAX].map(tokenCount)).toEqual([0, 7, MAX]);
    expect([0.1, 1.5, 2.999, 1e6 + 0.5].map(tokenCount)).toEqual([1, 2, 3, 1e6 + 1]);
  });

  it('reads a present value that is no count as the largest safe one, and only an absent one as none', () => {
    expect([-1, -0.5, -(2 ** 60), Number.NaN, Number.NEGATIVE_INFINITY].map(tokenCount)).toEqual(
      Array(5).fill(MAX),
    );
    expect(['7', '', true, false, {}, [], [3]].map(tokenCount)).toEqual(Array(7).fill(MAX));
    expect([null, undefined].map(tokenCount)).toEqual([undefined, undefined]);
  });

  it('reads a count past 2^53 as the largest safe one, whatever form it came in', () => {
    expect(tokenCount(2 ** 60)).toBe(MAX);
    expect(tokenCount(Number.POSITIVE_INFINITY)).toBe(MAX);
    expect(tokenCount(kept('{"n":1152921504606846976}').n)).toBe(MAX);
    expect(tokenCount(kept('{"n":-1152921504606846976}').n)).toBe(MAX);
  });

  it('adds counts with absent ones as 0, saturated', () => {
    expect(sumTokenCounts(3, undefined, 4, null)).toBe(7);
    expect(sumTokenCounts(3, -4)).toBe(MAX);
    expect(sumTokenCounts(MAX, MAX, 1)).toBe(MAX);
  });
});

describe('the translations of usage', () => {
  const usage = kept('{"prompt_tokens":3,"completion_tokens":1152921504606846976}');

  it('Anthropic Messages: a count past 2^53 is not 0 (it was: the gateway metered the answer as free)', () => {
    expect(anthropicUsage(usage)).toEqual({ input_tokens: 3, output_tokens: MAX });
  });

  it('OpenAI Responses: the same, and the total of its parts is saturated, not a string', () => {
    expect(responsesUsage(usage)).toMatchObject({ input_tokens: 3, output_tokens: MAX, total_tokens: MAX });
    expect(responsesUsage({ prompt_tokens: 3, completion_tokens: 4 })).toMatchObject({ total_tokens: 7 });
  });

  it('a negative count is not 0 and a fractional one is rounded up, in both translations', () => {
    // A model server reporting -5 or 1.5 tokens must not make an answer cheaper than an honest one:
    // the gateway meters the translated usage (src/gateway/limits/usage-meter.ts).
    expect(anthropicUsage({ prompt_tokens: -5, completion_tokens: 1.5 })).toEqual({
      input_tokens: MAX,
      output_tokens: 2,
    });
    expect(anthropicUsage({ prompt_tokens: 3 })).toEqual({ input_tokens: 3, output_tokens: 0 });
    expect(responsesUsage({ prompt_tokens: 2.5, completion_tokens: 1, total_tokens: 3.5 })).toMatchObject({
      input_tokens: 3,
      output_tokens: 1,
      total_tokens: 4,
    });
    expect(responsesUsage({ prompt_tokens: 3, completion_tokens: 4, total_tokens: -7 })).toMatchObject({
      total_tokens: MAX,
    });
    expect(responsesUsage({ prompt_tokens: 3, completion_tokens: '4' })).toMatchObject({
      output_tokens: MAX,
      total_tokens: MAX,
    });
  });
});
