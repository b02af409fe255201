/**
 * The gateway's configuration: Worker bindings, vars and secrets (docs/gateway.md "Configuration"),
 * checked once per isolate. A configuration that does not hold — a manifest that does not parse, a
 * manifest that trusts the simulator without `SEALGATE_ALLOW_SIMULATED=1`, no `GATEWAY_SECRET`, a
 * `DEV_API_KEY` under 32 characters, no attestation service — is not an error to work around: the
 * gateway refuses to serve (typed 503, reason in the log), because every way of "carrying on" would
 * forward prompts to something nobody verified.
 */
import { MIN_SECRET_LENGTH } from '../keys/gateway-key.js';
import { manifestDigest } from '../policy/manifest-digest.js';
import type { Manifest } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { manifestTrustsSimulator } from '../policy/trust-anchors.js';
import { PCS_BASE_URL } from '../verify/tdx/pcs.js';
import type { DurableObjectNamespace, KvNamespace } from './cf-types.js';
import type { KeyRotation } from './durable-objects/key-rotation.js';
import type { KeyUsage } from './durable-objects/key-usage.js';

export interface GatewayEnv {
  /** KV: API keys, the verified-attestation cache, published KEKs (wrapped), KDS certificates. */
  SEALGATE_KV: KvNamespace;
  /** The key-rotation Durable Object (one per manifest digest). */
  KEY_ROTATION: DurableObjectNamespace<KeyRotation>;
  /** The exact manifest JSON text (var). */
  SEALGATE_MANIFEST?: string;
  /** "1" lets a manifest that trusts the simulator's root be served (development only). */
  SEALGATE_ALLOW_SIMULATED?: string;
  /** Secret: keys at rest (DO storage, KV) are wrapped under a key derived from it. ≥ 32 characters. */
  GATEWAY_SECRET?: string;
  /** The attestation service's base URL. */
  ATTESTATION_SERVICE_URL?: string;
  /** AI workers' base URLs, comma-separated, tried in turn. */
  WORKER_URLS?: string;
  /** Secret: an API key accepted besides the hashed keys in KV (development). ≥ 32 characters. */
  DEV_API_KEY?: string;
  /** Allowed CORS origins, comma-separated, or "*"; empty/absent: no CORS headers. */
  CORS_ORIGINS?: string;
  /** Largest accepted request body in bytes (default 4 MiB). */
  MAX_BODY_BYTES?: string;
  /** The per-key token usage Durable Object (limits/standing-cache.ts); needed by metered keys. */
  KEY_USAGE?: DurableObjectNamespace<KeyUsage>;
  /**
   * "kv": also store every answer's receipt in KV for `GET /v1/receipts/{id}` (one KV write per
   * answer). "off" or absent (the default): the receipt reaches the client with the answer only.
   */
  RECEIPT_STORAGE?: string;
  /** Intel PCS or a PCCS for TDX collateral a service's bundle lacks (default Intel's PCS). */
  TDX_PCS_URL?: string;
  /** Where the SGX Root CA CRL is fetched with that collateral (default Intel's, pcs.ts). */
  TDX_PCS_ROOT_CA_CRL_URL?: string;
}

export interface GatewayConfig {
  manifest: Manifest;
  manifestDigest: string;
  simulated: boolean;
  secret: string;
  serviceUrl: string;
  workerUrls: string[];
  corsOrigins: string[];
  maxBodyBytes: number;
  /** `RECEIPT_STORAGE=kv`: one `rcpt:` KV write per answer (default false: none). */
  storeReceipts: boolean;
  /** Where TDX collateral is fetched (src/verify/tdx/pcs.ts); no trailing slash. */
  pcsBaseUrl: string;
  /** Where the SGX Root CA CRL is fetched; absent: Intel's (a PCCS may not serve it). */
  pcsRootCaCrlUrl?: string;
}

export type ConfigResult = { ok: true; config: GatewayConfig } | { ok: false; reason: string };

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** A guessable development key would open the gateway to anyone: as long as a 128-bit hex key. */
export const MIN_DEV_API_KEY_LENGTH = 32;

const CONFIG_VARS = [
  'SEALGATE_MANIFEST',
  'SEALGATE_ALLOW_SIMULATED',
  'GATEWAY_SECRET',
  'ATTESTATION_SERVICE_URL',
  'WORKER_URLS',
  'CORS_ORIGINS',
  'MAX_BODY_BYTES',
  'DEV_API_KEY',
  'RECEIPT_STORAGE',
  'TDX_PCS_URL',
  'TDX_PCS_ROOT_CA_CRL_URL',
] as const;

let cached: { values: unknown[]; result: Promise<ConfigResult> } | undefined;

/**
 * The checked configuration; the same env values give the same (cached) result within an isolate.
 * Runs on every request, so the cache key is compared value by value (`===`: the same string is
 * one pointer comparison) rather than by serialising the manifest each time.
 */
export function loadConfig(env: GatewayEnv): Promise<ConfigResult> {
  const values = CONFIG_VARS.map((name) => env[name]);
  if (!cached || values.some((v, i) => v !== cached!.values[i])) {
    cached = { values, result: checkConfig(env) };
  }
  return cached.result;
}

async function checkConfig(env: GatewayEnv): Promise<ConfigResult> {
  const fail = (reason: string): ConfigResult => ({ ok: false, reason });
  if (typeof env.SEALGATE_MANIFEST !== 'string' || env.SEALGATE_MANIFEST.length === 0) {
    return fail('SEALGATE_MANIFEST is not set');
  }
  let manifest: Manifest;
  let digest: string;
  try {
    manifest = parseManifest(env.SEALGATE_MANIFEST);
    digest = await manifestDigest(env.SEALGATE_MANIFEST);
  } catch (e) {
    return fail(`SEALGATE_MANIFEST does not parse: ${(e as Error).message}`);
  }
  const simulated = manifestTrustsSimulator(manifest);
  if (simulated && env.SEALGATE_ALLOW_SIMULATED !== '1') {
    return fail('the manifest trusts a SIMULATED root and SEALGATE_ALLOW_SIMULATED is not 1');
  }
  const secret = env.GATEWAY_SECRET;
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    return fail(`GATEWAY_SECRET must be set (at least ${MIN_SECRET_LENGTH} characters)`);
  }
  if (env.DEV_API_KEY && env.DEV_API_KEY.length < MIN_DEV_API_KEY_LENGTH) {
    return fail(`DEV_API_KEY, when set, must be at least ${MIN_DEV_API_KEY_LENGTH} characters`);
  }
  const serviceUrl = (env.ATTESTATION_SERVICE_URL ?? '').trim();
  if (!isHttpUrl(serviceUrl)) return fail('ATTESTATION_SERVICE_URL must be an http(s) URL');
  const listed = splitList(env.WORKER_URLS);
  if (listed.some((u) => !isHttpUrl(u))) return fail(`WORKER_URLS holds a value that is not an http(s) URL`);
  const workerUrls = listed.map(workerBaseUrl);
  const maxBodyBytes = env.MAX_BODY_BYTES === undefined ? DEFAULT_MAX_BODY_BYTES : Number(env.MAX_BODY_BYTES);
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1024) {
    return fail('MAX_BODY_BYTES must be an integer ≥ 1024');
  }
  // A misspelt value refuses to serve rather than silently run without the storage asked for.
  const storage = env.RECEIPT_STORAGE ?? 'off';
  if (storage !== 'off' && storage !== 'kv') return fail('RECEIPT_STORAGE must be "off" or "kv"');
  const pcsBaseUrl = (env.TDX_PCS_URL ?? PCS_BASE_URL).trim().replace(/\/+$/, '');
  if (!isHttpUrl(pcsBaseUrl)) return fail('TDX_PCS_URL must be an http(s) URL');
  const pcsRootCaCrlUrl = env.TDX_PCS_ROOT_CA_CRL_URL?.trim();
  if (pcsRootCaCrlUrl !== undefined && !isHttpUrl(pcsRootCaCrlUrl)) {
    return fail('TDX_PCS_ROOT_CA_CRL_URL must be an http(s) URL');
  }
  return {
    ok: true,
    config: {
      pcsBaseUrl,
      ...(pcsRootCaCrlUrl ? { pcsRootCaCrlUrl } : {}),
      manifest,
      manifestDigest: digest,
      simulated,
      secret,
      serviceUrl,
      workerUrls: workerUrls.map((u) => u.replace(/\/+$/, '')),
      corsOrigins: splitList(env.CORS_ORIGINS),
      maxBodyBytes,
      storeReceipts: storage === 'kv',
    },
  };
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * A worker's base URL as the gateway joins routes to it: the WHATWG URL serialization (scheme and
 * host in lower case, a default port dropped) without trailing slashes. So `https://W1.example/`
 * and `https://w1.example` are one worker (one seal reaches it at most once:
 * sealing/upstream.ts `order`), and a trailing slash does not make `//v1/…`, a path no worker
 * serves. A URL listed twice stays twice (it weights the rotating start).
 */
function workerBaseUrl(value: string): string {
  const url = new URL(value);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash;
  } catch {
    return false;
  }
}
