/**
 * API keys with limits for the sealed load, made as an operator makes them (`sealgate apikey create
 * --local`, sealed under the stack's GATEWAY_SECRET, `<devDir>/gateway-secret`) into the running
 * gateway's local KV (run-macro.ts).
 */
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';

/**
 * A key with limits far above what the load reaches (so that nothing is refused and the cost
 * measured is the checking, metering and settling), made as an operator makes one, into the running
 * gateway's local KV: every limit (`limited`), or tokens only, no rpm (`metered`). Why both:
 * Miniflare emulates the Workers Rate Limiting binding with a SQLite-backed Durable Object that
 * each `limit()` reaches by a fetch (node_modules/miniflare/dist/src/workers/ratelimit/): a
 * Durable Object request per sealed request, which is Miniflare's cost, not a measure of
 * Cloudflare's binding (documented as backed by its rate-limiting rules infrastructure, counted
 * per location; not measurable here). The metered key prices Sealgate's own part alone.
 */
export async function createBenchKey(
  persistTo: string,
  devDir: string,
  kind: 'limited' | 'metered',
): Promise<string> {
  const limits = [
    ...(kind === 'limited' ? ['--rpm', '30000'] : []),
    '--tpm',
    '1000000000',
    '--budget-tokens',
    '1000000000000',
    '--budget-period',
    'month',
  ];
  const r = await runCli([
    'apikey',
    'create',
    '--name',
    `bench-${kind}`,
    ...limits,
    '--secret-file',
    join(devDir, 'gateway-secret'),
    '--local',
    '--persist-to',
    persistTo,
  ]);
  if (r.exitCode !== 0) throw new Error(`apikey create failed: ${r.stderr}`);
  return r.stdout.trim();
}
