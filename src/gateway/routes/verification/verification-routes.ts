/**
 * The verification routes (docs/verifiability.md), mounted by app.ts. All are GET and PUBLIC (no
 * API key): they serve verification data, never prompt data.
 */
import { Hono } from 'hono';
import type { AppEnv, GatewayDeps } from '../../app-env.js';
import { executionContextOf } from '../../execution-context.js';
import { getAttestation, getGatewayNonce, getJwks } from './attestation.js';
import type { RouteHandler } from './context.js';
import { getManifest } from './manifest-history.js';
import { getVerificationPage } from './verification-page.js';

export const VERIFICATION_ROUTES: Readonly<Record<string, RouteHandler>> = {
  '/': getVerificationPage,
  '/v1/attestation': getAttestation,
  '/v1/attestation/nonce': getGatewayNonce,
  '/v1/manifest': getManifest,
  '/.well-known/jwks.json': getJwks,
};

export function verificationRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const [path, handler] of Object.entries(VERIFICATION_ROUTES)) {
    app.get(path, (c) => {
      const ctx = executionContextOf(c);
      return handler({
        request: c.req.raw,
        env: c.env,
        config: c.get('config'),
        fetch: deps.fetch,
        ...(ctx ? { ctx } : {}),
      });
    });
  }
  return app;
}
