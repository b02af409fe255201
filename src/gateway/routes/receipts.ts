/**
 * `GET /v1/receipts/{id}` (docs/gateway.md "Receipts"): the receipt bundle of one answer — the
 * worker's signed receipt, its worker certificate and the attestation service's evidence (with
 * the manifest) — everything `sealgate verify-receipt` needs to check the answer offline. The id is
 * the `x-sealgate-receipt` header of the answer. API key required (the `/v1/*` middleware), and
 * only the key that made the request reads its receipt: to any other key it is "no such receipt",
 * so receipt ids tell nobody else whether or when an answer was made. A bundle holds no prompt or
 * answer, only hashes, certificates, public keys and evidence.
 */
import { Hono } from 'hono';
import { checkRequestId } from '../../envelope/wire.js';
import { errorResponse } from '../../http/errors.js';
import type { AppEnv } from '../app-env.js';
import { readReceiptBundle } from '../kv/receipt-store.js';

const PREFIX = '/v1/receipts/';

/** For the gateway's 404/405 check: every `/v1/receipts/<something>` is a GET route. */
export function isReceiptPath(path: string): boolean {
  return path.startsWith(PREFIX) && path.length > PREFIX.length && !path.slice(PREFIX.length).includes('/');
}

export function receiptRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get(`${PREFIX}:id`, async (c) => {
    const id = c.req.param('id');
    try {
      checkRequestId(id, 'receipt id');
    } catch {
      return errorResponse('not_found', 'no such receipt');
    }
    const bundle = await readReceiptBundle(
      c.env.SEALGATE_KV,
      c.get('config').secret,
      id,
      c.get('apiKeyHash'),
    );
    if (!bundle) return errorResponse('not_found', 'no such receipt (unknown, or older than its retention)');
    return c.json(bundle, 200, { 'cache-control': 'no-store' });
  });
  return app;
}
