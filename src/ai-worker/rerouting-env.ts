/**
 * Settings of Node itself that would send the model call somewhere else than the attested endpoint,
 * or let someone else's certificate stand for it: the worker refuses to start with any of them,
 * since none is in its attested configuration (src/attestation/worker-config.ts).
 *
 * - `NODE_USE_ENV_PROXY` / `--use-env-proxy` (Node ≥ 22.21 / 24.5): `http.request` and `fetch` then
 *   honour HTTP_PROXY/HTTPS_PROXY — the prompt would go to the proxy. (Without it node:http
 *   ignores the proxy variables; the worker's model client is node:http, node-http-fetch.ts.)
 * - `NODE_TLS_REJECT_UNAUTHORIZED` other than `1`: TLS without certificate checks — anyone on the
 *   path can answer for an https endpoint.
 * - `NODE_EXTRA_CA_CERTS`, `--use-openssl-ca` / `--use-system-ca` (which read SSL_CERT_FILE,
 *   SSL_CERT_DIR and the host's store): roots outside the image vouch for the endpoint.
 *
 * What this cannot catch: code injected before it runs (NODE_OPTIONS `--require`/`--import`). The
 * process environment must come from the measured image, not from the host (docs/threat-model.md).
 */
import { SealgateError } from '../errors.js';
import { normalizeModelEndpoint } from '../policy/model-endpoint.js';

const TLS_FLAGS = ['--use-openssl-ca', '--use-system-ca'];

/** Whether MODEL_URL normalizes to plain http (a URL that does not normalize counts as TLS: strict). */
function plainHttp(url: string): boolean {
  try {
    return normalizeModelEndpoint(url).startsWith('http:');
  } catch {
    return false;
  }
}

/**
 * `env` is the process environment (MODEL_URL included); the TLS settings count only when the
 * model call is TLS, i.e. MODEL_URL is set and not plain http (the built-in model and a loopback
 * http server do not read them; many hosts set NODE_EXTRA_CA_CERTS for other programs).
 */
export function refuseReroutingEnvironment(
  env: Record<string, string | undefined>,
  execArgv: readonly string[] = [],
): void {
  const found: string[] = [];
  const options = [...(env.NODE_OPTIONS ?? '').split(/\s+/), ...execArgv];
  const hasFlag = (flag: string) => options.some((o) => o === flag || o.startsWith(`${flag}=`));
  if (env.NODE_USE_ENV_PROXY) found.push('NODE_USE_ENV_PROXY');
  if (hasFlag('--use-env-proxy')) found.push('--use-env-proxy');
  if (env.MODEL_URL && !plainHttp(env.MODEL_URL)) {
    if (env.NODE_TLS_REJECT_UNAUTHORIZED !== undefined && env.NODE_TLS_REJECT_UNAUTHORIZED !== '1') {
      found.push('NODE_TLS_REJECT_UNAUTHORIZED');
    }
    if (env.NODE_EXTRA_CA_CERTS) found.push('NODE_EXTRA_CA_CERTS');
    for (const flag of TLS_FLAGS) if (hasFlag(flag)) found.push(flag);
  }
  if (found.length > 0) {
    throw new SealgateError(
      'invalid_argument',
      `AI worker: ${found.join(', ')} would send the model call elsewhere or unauthenticated, outside the attested configuration: unset it`,
    );
  }
}
