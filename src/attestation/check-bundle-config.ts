/**
 * The configuration part of verifying an evidence bundle: a worker must present its configuration
 * document (worker-config.ts), the document must be canonical and closed, and the manifest's
 * `model` rules for the role must allow it. The digest of the document as presented is what the
 * verifier then expects REPORT_DATA to bind (`config`): a worker that presents another document
 * than the one it bound fails `report_data_mismatch`, and one whose own start-up check was skipped
 * still fails here. Findings are violations, never thrown.
 */
import { toHex } from '../bytes.js';
import type { Manifest } from '../policy/manifest-types.js';
import { evaluateModelConfig } from '../policy/model-policy.js';
import { type Violation, violation } from '../verify/violations.js';
import type { EvidenceBundle } from './evidence-bundle.js';
import type { Role } from './report-data.js';
import { CONFIG_DIGEST_NAME, parseWorkerConfig, workerConfigDigest } from './worker-config.js';

/** Roles whose evidence carries a configuration document. */
const CONFIGURED_ROLES: ReadonlySet<Role> = new Set(['worker']);

export interface BundleConfigCheck {
  violations: Violation[];
  /** What REPORT_DATA must bind beside the keys (empty for roles without a configuration). */
  digests: Record<string, Uint8Array>;
  /** Lower-case hex SHA-256 of the presented document, when there is one. */
  configDigest: string | null;
}

export async function checkBundleConfig(
  bundle: EvidenceBundle,
  manifest: Manifest,
  role: Role,
): Promise<BundleConfigCheck> {
  const none: BundleConfigCheck = { violations: [], digests: {}, configDigest: null };
  if (!CONFIGURED_ROLES.has(role)) {
    if (bundle.config === undefined) return none;
    return {
      ...none,
      violations: [
        violation('config_unexpected', `role ${role} presents no configuration`, { field: 'config' }),
      ],
    };
  }
  if (bundle.config === undefined) {
    return {
      ...none,
      violations: [violation('config_missing', 'the worker presents no configuration', { field: 'config' })],
    };
  }
  const digest = await workerConfigDigest(bundle.config);
  const bound = { digests: { [CONFIG_DIGEST_NAME]: digest }, configDigest: toHex(digest) };
  let model: { endpoint: string; apiKey: boolean };
  try {
    ({ model } = parseWorkerConfig(bundle.config));
  } catch (e) {
    return {
      ...bound,
      violations: [violation('config_malformed', (e as Error).message, { field: 'config' })],
    };
  }
  return { ...bound, violations: evaluateModelConfig(manifest, role, model) };
}
