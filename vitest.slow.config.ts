/**
 * The slow suites, kept out of `npm test`: `npm run test:faults` (faults on the real stack through a
 * byte-level fault proxy) and `npm run test:load` (200 streaming clients across key rotations).
 * Each starts the real stack (`wrangler dev`); run one file at a time.
 *
 *   npx vitest run --config vitest.slow.config.ts --project faults|load
 */
import { defineConfig } from 'vitest/config';

const project = (name: string) => ({
  test: {
    name,
    environment: 'node' as const,
    include: [`test/${name}/**/*.node.test.ts`],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 240_000,
  },
});

export default defineConfig({ test: { projects: [project('faults'), project('load')] } });
