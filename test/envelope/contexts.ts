/**
 * Request contexts for the answer tests: requests `req-a` and `req-b` on one route and `req-a` on
 * another, sealed under one KEK — what a sealed answer or error must not be opened across.
 */
import type { RequestContext } from '../../src/envelope/data-key.js';
import { sealRequest } from '../../src/envelope/request.js';
import { createKek } from '../../src/keys/kek.js';
import { ramp } from '../vectors/reference.js';

export const T = 1_767_225_600;
export const ROUTE = '/v1/chat/completions';

export async function contexts(): Promise<{
  a: RequestContext;
  b: RequestContext;
  otherRoute: RequestContext;
}> {
  const kek = await createKek({ key: ramp(1, 32), notBefore: T, notAfter: T + 3600 });
  const seal = (requestId: string, route = ROUTE) =>
    sealRequest({ kek, route, requestId, body: { model: 'm' }, now: T }).then((r) => r.context);
  return {
    a: await seal('req-a'),
    b: await seal('req-b'),
    otherRoute: await seal('req-a', '/v1/embeddings'),
  };
}
