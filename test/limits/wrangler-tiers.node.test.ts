/** wrangler.toml's Rate Limiting bindings are exactly the rpm tiers the gateway names (key-limits.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RPM_TIERS, rpmBindingName } from '../../src/gateway/limits/key-limits.js';

describe('wrangler.toml rate limiting bindings', () => {
  it('wrangler.toml declares exactly one 10 s binding per tier, in both environments', () => {
    const toml = readFileSync('wrangler.toml', 'utf8');
    for (const prefix of ['', 'env.production.']) {
      const blocks = toml.split(`[[${prefix}ratelimits]]`).slice(1);
      const declared = blocks.map((b) => {
        const name = /name = "(\w+)"/.exec(b)?.[1];
        const limit = Number(/limit = (\d+)/.exec(b)?.[1]);
        expect(/period = 10 \}/.test(b)).toBe(true);
        return [name, limit];
      });
      expect(declared).toEqual(RPM_TIERS.map((rpm) => [rpmBindingName(rpm), rpm / 6]));
    }
  });
});
