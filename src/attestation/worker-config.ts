/**
 * The AI worker's effective configuration (docs/protocol.md "Worker configuration"): every runtime
 * setting that decides where an opened prompt or answer goes, as one JSON document the worker
 * presents in its evidence bundle and binds by digest into REPORT_DATA (name `config`). Version 1:
 *
 *   { "model": { "apiKey": <boolean>, "endpoint": "builtin" | <normalized URL> }, "v": 1 }
 *
 * - `model.endpoint`: `builtin` for the built-in model, else MODEL_URL normalized as
 *   src/policy/model-endpoint.ts does — the exact text the worker connects to;
 * - `model.apiKey`: whether a key (MODEL_API_KEY) is sent to it — never the key itself.
 *
 * The document travels as its RFC 8785 canonical UTF-8 bytes and nothing else: a reader refuses
 * any other spelling, unknown or missing members, and `builtin` with an API key. Its digest is
 * SHA-256 over those bytes, so the verifier hashes what it read and what it read is what is bound.
 */
import { sha256, toHex, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { canonicalJsonBytes } from '../json/canonical.js';
import { isRecord } from '../json/object-guards.js';
import { parseStrictJson } from '../json/strict-json.js';
import { BUILTIN_ENDPOINT, normalizeModelEndpoint } from '../policy/model-endpoint.js';

export const WORKER_CONFIG_VERSION = 1;
/** The name the config digest is bound under in REPORT_DATA (report-data.ts `digests`). */
export const CONFIG_DIGEST_NAME = 'config';
/** A version-1 document is well below this; a hostile peer cannot make us parse more. */
export const MAX_WORKER_CONFIG_BYTES = 4096;

export interface WorkerConfig {
  v: 1;
  model: { endpoint: string; apiKey: boolean };
}

function bad(message: string): SealgateError {
  return new SealgateError('malformed_evidence', `worker config: ${message}`);
}

/** The configuration for a model endpoint (`undefined` → the built-in model) and API-key use. */
export function workerConfig(model: { url?: string; apiKey: boolean }): WorkerConfig {
  if (model.url === undefined && model.apiKey) {
    throw new SealgateError('invalid_argument', 'MODEL_API_KEY is set but MODEL_URL is not');
  }
  const endpoint = model.url === undefined ? BUILTIN_ENDPOINT : normalizeModelEndpoint(model.url);
  return { v: WORKER_CONFIG_VERSION, model: { endpoint, apiKey: model.apiKey } };
}

export function encodeWorkerConfig(config: WorkerConfig): Uint8Array {
  return canonicalJsonBytes(config);
}

export async function workerConfigDigest(bytes: Uint8Array): Promise<Uint8Array> {
  return sha256(bytes);
}

export async function workerConfigDigestHex(bytes: Uint8Array): Promise<string> {
  return toHex(await sha256(bytes));
}

function exactly(o: Record<string, unknown>, names: string[], where: string): void {
  const keys = Object.keys(o).sort();
  if (keys.join(',') !== [...names].sort().join(',')) {
    throw bad(`${where} must have exactly ${names.join(', ')}`);
  }
}

/** Reads the canonical bytes of a version-1 document. Throws `malformed_evidence`. */
export function parseWorkerConfig(bytes: Uint8Array): WorkerConfig {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > MAX_WORKER_CONFIG_BYTES) {
    throw bad(`expected 1..${MAX_WORKER_CONFIG_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = parseStrictJson(utf8.decode(bytes));
  } catch {
    throw bad('not strict UTF-8 JSON');
  }
  if (!isRecord(value)) throw bad('not a JSON object');
  exactly(value, ['v', 'model'], 'the document');
  if (value.v !== WORKER_CONFIG_VERSION) throw bad(`unsupported version ${JSON.stringify(value.v)}`);
  const model = value.model;
  if (!isRecord(model)) throw bad('model must be an object');
  exactly(model, ['endpoint', 'apiKey'], 'model');
  const { endpoint, apiKey } = model;
  if (typeof apiKey !== 'boolean') throw bad('model.apiKey must be a boolean');
  if (typeof endpoint !== 'string') throw bad('model.endpoint must be a string');
  if (endpoint === BUILTIN_ENDPOINT) {
    if (apiKey) throw bad('the built-in model takes no API key');
  } else {
    let normalized: string | undefined;
    try {
      normalized = normalizeModelEndpoint(endpoint, 'model.endpoint');
    } catch {
      normalized = undefined;
    }
    if (normalized !== endpoint) throw bad('model.endpoint is not "builtin" or a normalized http(s) URL');
  }
  const config: WorkerConfig = { v: 1, model: { endpoint, apiKey } };
  const canonical = encodeWorkerConfig(config);
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i])) {
    throw bad('not in RFC 8785 canonical form');
  }
  return config;
}
