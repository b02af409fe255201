/**
 * The attestation service's HTTP API (docs/services.md "Attestation service") as a Hono app:
 * runtime-neutral (no node:*), tested with `app.request()`; `server.ts` serves it on Node.
 *
 * Every answer is JSON; every error is OpenAI's error shape with a code from src/http/errors.ts —
 * including unknown routes (404 `not_found`), wrong methods (405 `method_not_allowed`, with
 * `allow`), and anything unexpected (500 `internal_error`, details only in the log).
 * Responses carry `cache-control: no-store`: evidence and keys are per-exchange, never cacheable.
 */
import { Hono } from 'hono';
import { encodeEvidenceBundle } from '../attestation/evidence-bundle.js';
import { computeReportData, NONCE_LENGTH } from '../attestation/report-data.js';
import { clientAddressGroup } from '../http/client-address.js';
import { errorResponse } from '../http/errors.js';
import { bundleEvidenceOf } from '../platform/bundle-evidence.js';
import { attestationBudget } from './attestation-budget.js';
import { listKeys, postKey, postRetire } from './key-routes.js';
import { base64UrlField, readJsonObject } from './request-body.js';
import { createRuntime, type ServiceDeps, type ServiceRuntime } from './runtime.js';
import { listWorkers } from './worker-list.js';
import { postChallenge, postRegister, postWorkerKeys } from './worker-routes.js';

type Handler = (rt: ServiceRuntime, req: Request, caller: string | null) => Response | Promise<Response>;
type Method = 'GET' | 'POST';

const MAX_ATTESTATION_REQUEST_BYTES = 256;

const ROUTES: Record<string, Partial<Record<Method, Handler>>> = {
  '/healthz': { GET: healthz },
  '/v1/attestation': { POST: postAttestation },
  '/v1/keys': { GET: listKeys, POST: postKey },
  '/v1/keys/retire': { POST: postRetire },
  '/v1/workers': { GET: listWorkers },
  '/v1/workers/challenge': { POST: postChallenge },
  '/v1/workers/register': { POST: postRegister },
  '/v1/workers/keys': { POST: postWorkerKeys },
};

export function createServiceApp(deps: ServiceDeps): Hono {
  const rt = createRuntime(deps);
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('cache-control', 'no-store');
  });
  for (const [path, methods] of Object.entries(ROUTES)) {
    const allow = Object.keys(methods).join(', ');
    app.all(path, async (c) => {
      const handler = methods[c.req.method as Method];
      if (!handler) {
        return errorResponse('method_not_allowed', `${c.req.method} is not allowed on ${path}`, {
          headers: { allow },
        });
      }
      return handler(rt, c.req.raw, peerAddress(c.env));
    });
  }
  app.notFound((c) => errorResponse('not_found', `no route ${c.req.path}`));
  // Every expected refusal is answered by its route; what reaches here is a fault (a platform that
  // failed, a misconfiguration): 500 with no detail for the caller, everything in the log.
  app.onError((e) => {
    deps.log('error', 'request_failed', {
      code: (e as { code?: unknown }).code ?? null,
      message: e.message,
    });
    return errorResponse('internal_error', 'internal error');
  });
  return app;
}

/**
 * The caller: the TCP peer's address when served by @hono/node-server (its `env.incoming` is the
 * Node request), an IPv6 one by its /64 (src/http/client-address.ts: one host routinely holds a
 * whole /64, and a budget per address would be no per-caller bound). Forwarded headers are not
 * read: the service is reached directly, and a header is the caller's word.
 */
function peerAddress(env: unknown): string | null {
  const address = (env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined)?.incoming
    ?.socket?.remoteAddress;
  return typeof address === 'string' && address.length > 0 ? clientAddressGroup(address) : null;
}

async function healthz(rt: ServiceRuntime): Promise<Response> {
  await rt.ready;
  return Response.json({
    status: 'ok',
    role: 'attestation-service',
    manifestDigest: rt.deps.manifestDigest,
    simulated: rt.deps.platform.simulated,
    keys: rt.keys.active(rt.nowSeconds()).length,
  });
}

/**
 * Fresh evidence for the caller's nonce: REPORT_DATA binds the role, that nonce, the manifest
 * digest and both public keys (src/attestation/report-data.ts), so the bundle proves that these
 * keys live in a VM measured as the manifest's attestation service, now.
 */
async function postAttestation(rt: ServiceRuntime, req: Request, caller: string | null): Promise<Response> {
  const body = await readJsonObject(req, { maxBytes: MAX_ATTESTATION_REQUEST_BYTES, fields: ['nonce'] });
  if (!body.ok) return body.response;
  const nonce = base64UrlField(body.value.nonce, 'nonce', { length: NONCE_LENGTH });
  if (!nonce.ok) return nonce.response;
  const limited = await attestationBudget(rt, rt.attestationLimiter, req, caller, nonce.value);
  if (limited) return limited;
  const { publicKeys } = await rt.ready;
  const { deps } = rt;
  const reportData = await computeReportData({
    role: 'attestation-service',
    nonce: nonce.value,
    manifestDigest: deps.manifestDigest,
    keys: publicKeys,
  });
  const evidence = await bundleEvidenceOf(deps.platform, reportData);
  return Response.json(
    encodeEvidenceBundle({
      version: 1,
      role: 'attestation-service',
      ...evidence,
      simulated: deps.platform.simulated,
      nonce: nonce.value,
      manifest: deps.manifestBytes,
      keys: publicKeys,
    }),
  );
}
