/** The worker's models: the built-in deterministic model and any OpenAI-compatible server. */
export { BUILTIN_MODEL_ID, type BuiltinModelOptions, createBuiltinModel } from './builtin.js';
export { encodeSseEvent, parseSseStream, type SseEvent, SseParser } from './sse.js';
export {
  isModelRoute,
  MODEL_ROUTES,
  type ModelAnswer,
  type ModelBackend,
  type ModelCall,
  type ModelInfo,
  type ModelRoute,
  SSE_DONE,
} from './types.js';
export { createUpstreamModel, modelOrigin, type UpstreamModelOptions } from './upstream.js';
