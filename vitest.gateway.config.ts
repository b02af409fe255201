/**
 * The gateway's workerd tests: the Worker (`src/gateway/worker.ts`) with real miniflare KV and the
 * key-rotation Durable Object. The simulated chain and dev manifest are made HERE, in Node, once,
 * because the Durable Object reads its manifest from its bindings; the tests rebuild the same
 * development environment inside workerd from the exported chain (GATEWAY_TEST_CHAIN) and run the
 * REAL attestation service and AI worker apps there, reached through a stubbed global `fetch`.
 *
 *   npx vitest run --config vitest.gateway.config.ts
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { createDevelopmentEnvironment } from './src/dev/environment.js';
import { gatewayDevVars } from './src/gateway/dev-vars.js';
import { RPM_PERIOD_SECONDS, RPM_TIERS, rpmBindingName } from './src/gateway/limits/key-limits.js';
import { exportDevChain } from './src/platform/simulator/dev-chain-json.js';

const gatewaySecret = 'test-gateway-secret-0123456789abcdef0123456789';
// The dev manifest pins the key this GATEWAY_SECRET derives (the service takes uploads from it only).
const dev = await createDevelopmentEnvironment({ now: new Date(), gatewaySecret });
const vars = gatewayDevVars({
  manifestText: dev.manifestText,
  serviceUrl: 'http://attestation-service.test',
  workerUrls: ['http://worker-a.test', 'http://worker-b.test'],
  gatewaySecret,
  devApiKey: 'sk-test-dev-key-0123456789abcdef0123',
  corsOrigins: ['https://app.example'],
});

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: './src/gateway/worker.ts',
      miniflare: {
        compatibilityDate: '2025-06-01',
        compatibilityFlags: ['nodejs_compat'],
        kvNamespaces: ['SEALGATE_KV'],
        durableObjects: {
          KEY_ROTATION: 'KeyRotation',
          ATTESTATION_RATE_LIMIT: 'AttestationRateLimit',
          MANIFEST_LOG: 'ManifestLog',
          KEY_USAGE: 'KeyUsage',
        },
        // wrangler.toml's `[[ratelimits]]` tiers (Miniflare runs the Rate Limiting binding locally).
        ratelimits: Object.fromEntries(
          RPM_TIERS.map((rpm, i) => [
            rpmBindingName(rpm),
            {
              namespace_id: String(1701 + i),
              simple: { limit: (rpm * RPM_PERIOD_SECONDS) / 60, period: RPM_PERIOD_SECONDS },
            },
          ]),
        ),
        bindings: { ...vars, GATEWAY_TEST_CHAIN: JSON.stringify(await exportDevChain(dev.chain)) },
      },
    }),
  ],
  test: {
    name: 'gateway',
    include: ['test/gateway/**/*.test.ts'],
    // The files share one key-rotation DO (same manifest digest): one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
