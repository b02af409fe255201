import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { loadVectors } from './test/support/load-vectors.js';

// Real vectors live outside the repo; tests inside workerd get them through `provide`.
const vectors = loadVectors(process.env.SEALGATE_TESTDATA, import.meta.dirname);
if (vectors.missing) console.warn(`[sealgate] ${vectors.missing}: tests that need them are skipped`);

// Naming: `*.test.ts` runs in Node AND in workerd (runtime-neutral domain code);
// `*.node.test.ts` only in Node (CLI, services, files); `*.worker.test.ts` only in workerd (gateway).
export default defineConfig({
  test: {
    provide: { vectors },
    projects: [
      // The gateway: the Worker with real KV and the key-rotation Durable Object (its own bindings).
      './vitest.gateway.config.ts',
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          // test/faults and test/load are the slow suites (vitest.slow.config.ts, npm run test:faults|load).
          exclude: ['test/**/*.worker.test.ts', 'test/gateway/**', 'test/faults/**', 'test/load/**'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        plugins: [
          cloudflareTest({
            miniflare: { compatibilityDate: '2025-06-01', compatibilityFlags: ['nodejs_compat'] },
          }),
        ],
        test: {
          name: 'workerd',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.node.test.ts', 'test/gateway/**', 'test/faults/**', 'test/load/**'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
