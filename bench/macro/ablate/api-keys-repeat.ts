/** Ablation stand-in for src/gateway/kv/api-keys.ts (`apikey×8`): the key accepted REPEAT times. */
import type { GatewayEnv } from '../../../src/gateway/config.js';
import { acceptedApiKey as acceptOnce } from '../../../src/gateway/kv/api-keys.js';
import { repeated } from './repeat.js';

export * from '../../../src/gateway/kv/api-keys.js';

export function acceptedApiKey(env: GatewayEnv, key: string | null): ReturnType<typeof acceptOnce> {
  return repeated(() => acceptOnce(env, key));
}
