/**
 * The verification routes (docs/verifiability.md), mounted by app.ts. All are GET and PUBLIC (no
 * API key): they serve verification data, never prompt data.
 */
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

export type { RouteContext, VerificationEnv } from './context.js';
