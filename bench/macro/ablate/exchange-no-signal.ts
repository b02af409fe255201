/**
 * Ablation stand-in for src/gateway/sealing/upstream.ts (`signal`): the worker is fetched without
 * the client request's AbortSignal (as the passthrough fetches). Measurement only.
 */
import { exchange as realExchange } from '../../../src/gateway/sealing/upstream.js';

export * from '../../../src/gateway/sealing/upstream.js';

export function exchange(input: Parameters<typeof realExchange>[0]): ReturnType<typeof realExchange> {
  const { signal: _dropped, ...rest } = input;
  return realExchange(rest);
}
