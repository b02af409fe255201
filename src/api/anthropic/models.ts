/**
 * Anthropic's Models API shapes (API reference: "Models"): `GET /v1/models` answers a page
 * `{data: ModelInfo[], first_id, last_id, has_more}` and `GET /v1/models/{model_id}` one ModelInfo,
 * `{type: "model", id, display_name, created_at (RFC 3339), lifecycle, …}`. Made from the
 * OpenAI-shaped entries the AI workers list (`{id, object: "model", created (Unix seconds),
 * owned_by}`), which say nothing of capabilities, limits or retirement: those are null (the API's
 * "unknown"), the lifecycle `active` (the worker serves it). The whole list is one page.
 */

export interface AnthropicModelInfo {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
  lifecycle: 'active';
  capabilities: null;
  deprecated_at: null;
  retires_at: null;
  line: null;
  max_input_tokens: null;
  max_tokens: null;
}

/** One OpenAI model entry as Anthropic's ModelInfo; null when it has no string id. */
export function anthropicModelInfo(entry: unknown): AnthropicModelInfo | null {
  const e = entry as { id?: unknown; created?: unknown } | null;
  if (typeof e?.id !== 'string') return null;
  const created = typeof e.created === 'number' && Number.isFinite(e.created) ? e.created : 0;
  const at = new Date(created * 1000);
  return {
    type: 'model',
    id: e.id,
    display_name: e.id,
    created_at: (Number.isNaN(at.getTime()) ? new Date(0) : at).toISOString(),
    lifecycle: 'active',
    capabilities: null,
    deprecated_at: null,
    retires_at: null,
    line: null,
    max_input_tokens: null,
    max_tokens: null,
  };
}

/** The model list as Anthropic's one page. */
export function anthropicModelPage(entries: readonly unknown[]) {
  const data = entries.map(anthropicModelInfo).filter((m): m is AnthropicModelInfo => m !== null);
  return { data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false };
}

/** An Anthropic SDK's request: it sends `anthropic-version` on every call. */
export function isAnthropicRequest(headers: Headers): boolean {
  return headers.has('anthropic-version');
}
