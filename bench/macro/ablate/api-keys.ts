/**
 * Ablation stand-in for src/gateway/kv/api-keys.ts (`apikey`): any presented key is accepted
 * without its SHA-256 or the development key's comparison. Measurement only.
 */
import type { GatewayEnv } from '../../../src/gateway/config.js';
import type { AcceptedKey } from '../../../src/gateway/kv/api-keys.js';

export * from '../../../src/gateway/kv/api-keys.js';

const ANY: AcceptedKey = { hash: 'ab'.repeat(32), limits: null };

export async function acceptedApiKey(_env: GatewayEnv, key: string | null): Promise<AcceptedKey | null> {
  return key === null ? null : ANY;
}
