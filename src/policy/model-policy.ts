/**
 * The manifest's `model` rules for a role (docs/manifest.md "roles.worker.model"): which model
 * endpoints an AI worker may send opened prompts to, and whether it may send an API key with them.
 * Absent, the strict default applies: the built-in model or a loopback endpoint, no API key — so a
 * manifest written before the rule existed keeps its digest and gets the safe policy.
 *
 * An endpoint entry is `builtin`, `loopback` (any port and path on a loopback address, see
 * model-endpoint.ts), or one normalized URL matched exactly.
 */
import { type Violation, violation } from '../verify/violations.js';
import type { Manifest, ModelApiKeyRule, RoleName } from './manifest-types.js';
import { BUILTIN_ENDPOINT, isLoopbackEndpoint } from './model-endpoint.js';

export const LOOPBACK_ENTRY = 'loopback';

export interface EffectiveModelPolicy {
  endpoints: readonly string[];
  apiKey: ModelApiKeyRule;
  /** Whether the manifest wrote the rule (false: the default). */
  written: boolean;
}

export const DEFAULT_MODEL_POLICY: Readonly<EffectiveModelPolicy> = Object.freeze({
  endpoints: Object.freeze([BUILTIN_ENDPOINT, LOOPBACK_ENTRY]),
  apiKey: 'forbidden',
  written: false,
});

export function effectiveModelPolicy(manifest: Manifest, role: RoleName): EffectiveModelPolicy {
  const model = manifest.roles[role]?.model;
  if (!model) return DEFAULT_MODEL_POLICY;
  return { endpoints: model.endpoints, apiKey: model.apiKey ?? 'forbidden', written: true };
}

/** Whether one normalized endpoint (or `builtin`) is among `entries`. */
export function endpointAllowed(entries: readonly string[], endpoint: string): boolean {
  return entries.some((e) => e === endpoint || (e === LOOPBACK_ENTRY && isLoopbackEndpoint(endpoint)));
}

/** The model part of a worker configuration against the role's rule: every failure, none thrown. */
export function evaluateModelConfig(
  manifest: Manifest,
  role: RoleName,
  model: { endpoint: string; apiKey: boolean },
): Violation[] {
  const policy = effectiveModelPolicy(manifest, role);
  const field = `roles.${role}.model`;
  const out: Violation[] = [];
  if (!endpointAllowed(policy.endpoints, model.endpoint)) {
    out.push(
      violation(
        'model_endpoint_not_allowed',
        `model endpoint ${model.endpoint} is not in ${field}.endpoints`,
        {
          field: `${field}.endpoints`,
          expected: policy.endpoints,
          actual: model.endpoint,
        },
      ),
    );
  }
  if (model.apiKey && policy.apiKey !== 'allowed') {
    out.push(
      violation('model_api_key_not_allowed', `a model API key is used but ${field}.apiKey is not "allowed"`, {
        field: `${field}.apiKey`,
        expected: policy.apiKey,
        actual: 'used',
      }),
    );
  }
  return out;
}
