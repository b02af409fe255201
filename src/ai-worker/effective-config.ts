/**
 * The worker's effective configuration (src/attestation/worker-config.ts), made once at start from
 * MODEL_URL and MODEL_API_KEY and checked against the manifest's `roles.worker.model` before the
 * worker listens or attests: a worker never opens a prompt it would send somewhere its manifest does
 * not allow. The attestation service checks the same document again (check-bundle-config.ts), so a
 * worker that skipped this check still gets no keys.
 */
import {
  encodeWorkerConfig,
  type WorkerConfig,
  workerConfig,
  workerConfigDigestHex,
} from '../attestation/worker-config.js';
import { SealgateError } from '../errors.js';
import type { Manifest } from '../policy/manifest-types.js';
import { effectiveModelPolicy, evaluateModelConfig } from '../policy/model-policy.js';

export interface EffectiveConfig {
  config: WorkerConfig;
  /** The canonical document, as presented in the evidence bundle. */
  bytes: Uint8Array;
  /** Its SHA-256, lower-case hex (bound into REPORT_DATA as `config`). */
  digest: string;
}

const FIELD = '/roles/worker/model';

export async function effectiveConfig(
  manifest: Manifest,
  model: { url?: string; apiKey?: string },
): Promise<EffectiveConfig> {
  const fail = (message: string): never => {
    throw new SealgateError('invalid_argument', `AI worker: ${message}`);
  };
  let config: WorkerConfig;
  try {
    config = workerConfig({ ...(model.url !== undefined ? { url: model.url } : {}), apiKey: !!model.apiKey });
  } catch (e) {
    return fail((e as Error).message);
  }
  const policy = effectiveModelPolicy(manifest, 'worker');
  const rule = policy.written
    ? `${FIELD}/endpoints lists ${policy.endpoints.map((e) => JSON.stringify(e)).join(', ')}`
    : `${FIELD} is absent, so only "builtin" and "loopback" (127.0.0.0/8, [::1]) are allowed`;
  for (const v of evaluateModelConfig(manifest, 'worker', config.model)) {
    if (v.code === 'model_endpoint_not_allowed') {
      fail(`MODEL_URL ${config.model.endpoint} is not allowed by the manifest: ${rule}`);
    }
    fail(`MODEL_API_KEY is set but the manifest's ${FIELD}/apiKey is not "allowed"`);
  }
  const bytes = encodeWorkerConfig(config);
  return { config, bytes, digest: await workerConfigDigestHex(bytes) };
}
