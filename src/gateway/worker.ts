/**
 * The gateway Worker's entry (wrangler.toml `main`): the Hono app for HTTP, a cron that keeps the
 * key-rotation Durable Object's alarm alive, and the four Durable Object classes, exported under
 * the class names wrangler.toml binds (persisted state hangs on them: never rename one without a
 * migration).
 */
import { createGatewayApp } from './app.js';
import type { ExecutionContextLike } from './cf-types.js';
import { type GatewayEnv, loadConfig } from './config.js';
import { observeManifest } from './durable-objects/manifest-log.js';
import { rotationStub } from './durable-objects/rotation-client.js';
import { log } from './log.js';
import type { VerificationEnv } from './routes/verification/context.js';

export { AttestationRateLimit } from './durable-objects/attestation-rate-limit.js';
export { KeyRotation } from './durable-objects/key-rotation.js';
export { KeyUsage } from './durable-objects/key-usage.js';
export { ManifestLog } from './durable-objects/manifest-log.js';

// `fetch` is looked up at call time, not captured: the global is the runtime's.
const app = createGatewayApp({ fetch: (url, init) => fetch(url, init) });

export default {
  fetch(request: Request, env: GatewayEnv, ctx: ExecutionContextLike): Response | Promise<Response> {
    return app.fetch(request, env, ctx as never);
  },

  /** Cron (wrangler.toml `triggers`): makes sure the rotation alarm exists even with no traffic. */
  async scheduled(_controller: unknown, env: GatewayEnv, ctx: ExecutionContextLike): Promise<void> {
    const loaded = await loadConfig(env);
    if (!loaded.ok) {
      log('error', 'gateway_misconfigured', { reason: loaded.reason });
      return;
    }
    ctx.waitUntil(rotationStub(env, loaded.config.manifestDigest).ensureAlarm());
    // The manifest history records what is served even when nobody asks (docs/verifiability.md).
    const logNs = (env as VerificationEnv).MANIFEST_LOG;
    if (logNs) ctx.waitUntil(observeManifest(logNs, loaded.config.manifestDigest).then(() => undefined));
  },
};
