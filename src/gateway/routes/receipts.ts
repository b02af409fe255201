/**
 * Receipt routes (docs/gateway.md "Receipts"). API key required (the `/v1/*` middleware).
 *
 * `GET /v1/receipt-evidence/{sha256}`: the attestation service's evidence bundle (with the
 * manifest) that a kept receipt names by digest (receipts/kept-receipt.ts) — stored once per
 * attestation by the key-rotation DO, so it is there whatever RECEIPT_STORAGE says. With the kept
 * receipt the client got with its answer, it is everything `sealgate verify-receipt` needs. It is
 * the same for every answer of an attestation and holds no prompt or answer.
 *
 * `GET /v1/receipts/{id}` (only with `RECEIPT_STORAGE=kv`): the receipt bundle of one answer — the
 * worker's signed receipt, its worker certificate and the service's evidence. The id is the
 * `x-sealgate-receipt` header of the answer. Only the key that made the request reads its receipt:
 * to any other key it is "no such receipt", so receipt ids tell nobody else whether or when an
 * answer was made. With storage off nothing was stored: 404 `not_found` that says so.
 */
import { Hono } from 'hono';
import { checkRequestId } from '../../envelope/wire.js';
import { errorResponse } from '../../http/errors.js';
import type { AppEnv } from '../app-env.js';
import { readReceiptBundle, readReceiptEvidence } from '../kv/receipt-store.js';

const PREFIX = '/v1/receipts/';
/**
 * Not under PREFIX: a static segment beside `/v1/receipts/:id` makes Hono's RegExpRouter give up
 * (ambiguous routes), and its SmartRouter then routes every request with the TrieRouter — which
 * took ~0.2 ms of gateway CPU per request in a profile of the sealed path.
 */
const EVIDENCE_PREFIX = '/v1/receipt-evidence/';

/** For the gateway's 404/405 check: `/v1/receipts/<id>` and `/v1/receipt-evidence/<sha256>` are GET routes. */
export function isReceiptPath(path: string): boolean {
  if (path.startsWith(EVIDENCE_PREFIX)) return /^[0-9a-f]{64}$/.test(path.slice(EVIDENCE_PREFIX.length));
  return path.startsWith(PREFIX) && path.length > PREFIX.length && !path.slice(PREFIX.length).includes('/');
}

export function receiptRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get(`${EVIDENCE_PREFIX}:sha256`, async (c) => {
    const sha256 = c.req.param('sha256');
    if (!/^[0-9a-f]{64}$/.test(sha256)) return errorResponse('not_found', 'no such service evidence');
    const evidence = await readReceiptEvidence(c.env.SEALGATE_KV, c.get('config').secret, sha256);
    if (!evidence)
      return errorResponse('not_found', 'no such service evidence (unknown, or older than its retention)');
    return c.json(evidence, 200, { 'cache-control': 'no-store' });
  });
  app.get(`${PREFIX}:id`, async (c) => {
    if (!c.get('config').storeReceipts) {
      return errorResponse(
        'not_found',
        'this gateway stores no receipts (RECEIPT_STORAGE is off): the receipt came with the answer (the x-sealgate-receipt-data header, or the stream’s “: sealgate-receipt” line)',
      );
    }
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
