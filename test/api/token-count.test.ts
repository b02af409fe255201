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
  it('reads non-negative integers as they are and nothing else as a count', () => {
    expect([0, 7, MAX].map(tokenCount)).toEqual([0, 7, MAX]);
    expect([-1, 2.5, Number.NaN, null, '7', undefined, {}].map(tokenCount)).toEqual(Array(7).fill(undefined));
  });

  it('reads a count past 2^53 as the largest safe one, whatever form it came in', () => {
    expect(tokenCount(2 ** 60)).toBe(MAX);
    expect(tokenCount(Number.POSITIVE_INFINITY)).toBe(MAX);
    expect(tokenCount(kept('{"n":1152921504606846976}').n)).toBe(MAX);
    expect(tokenCount(kept('{"n":-1152921504606846976}').n)).toBeUndefined();
    expect(tokenCount(-(2 ** 60))).toBeUndefined();
  });

  it('adds counts with absent ones as 0, saturated', () => {
    expect(sumTokenCounts(3, undefined, 4)).toBe(7);
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
});
