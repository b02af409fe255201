/**
 * `GET /v1/manifest` (docs/verifiability.md "Manifest history"): the manifest this gateway serves
 * under — its exact text and digest — and the append-only, hash-chained log of every manifest it
 * has served under (verification/manifest-chain.ts), newest last, with the head hash. Asking records the current
 * manifest in the log first (idempotent), so the log can never lag behind what is served.
 */
import { errorResponse } from '../../../http/errors.js';
import { observeManifest } from '../../durable-objects/manifest-log.js';
import { log } from '../../log.js';
import type { RouteContext } from './context.js';

export async function getManifest(rc: RouteContext): Promise<Response> {
  const ns = rc.env.MANIFEST_LOG;
  if (!ns) {
    log('error', 'gateway_misconfigured', { reason: 'MANIFEST_LOG binding missing' });
    return errorResponse('not_ready', 'the manifest history is not configured on this gateway');
  }
  const history = await observeManifest(ns, rc.config.manifestDigest);
  return Response.json(
    {
      object: 'sealgate.manifest',
      manifestDigest: rc.config.manifestDigest,
      simulated: rc.config.simulated,
      manifest: rc.env.SEALGATE_MANIFEST,
      history: history.entries,
      head: history.head,
    },
    { headers: { 'cache-control': 'no-store' } },
  );
}
