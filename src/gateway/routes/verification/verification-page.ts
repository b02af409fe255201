/**
 * `GET /` — the verification page (docs/verifiability.md "The page at /"). Public (no API key):
 * verification information only, no prompt data, no secret. Each load attests the service afresh
 * with a gateway nonce (so it shares the caller's `/v1/attestation` rate limit), then shows:
 * the verdict (and the EAR status), the service's MEASUREMENT against the manifest, its reported
 * TCB against the manifest's minimum, the workers the service attested — only those whose
 * certificates verify under the service key the hardware evidence just bound — the key windows
 * and the last attestation from the key-rotation DO, and the manifest history.
 */
import { buildPageModel } from '../../page/page-model.js';
import { esc, renderVerificationPage } from '../../page/verification-html.js';
import { rateLimited } from './attestation.js';
import type { RouteContext } from './context.js';

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // Nothing on the page runs or loads: say so to the browser (no script, no frame, no fetch).
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};

export async function getVerificationPage(rc: RouteContext): Promise<Response> {
  const limited = await rateLimited(rc);
  if (limited) {
    const retry = limited.headers.get('retry-after') ?? '60';
    return new Response(
      `<!doctype html><meta charset="utf-8"><title>Sealgate — verification</title><p>Too many verifications from this client; retry in ${esc(retry)} s.</p>`,
      { status: limited.status, headers: { ...HTML_HEADERS, 'retry-after': retry } },
    );
  }
  const model = await buildPageModel(rc);
  return new Response(renderVerificationPage(model), { status: 200, headers: HTML_HEADERS });
}
