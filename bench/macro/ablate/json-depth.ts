/** Ablation stand-in for src/http/json-depth.ts (`shape`): no walk of the parsed body. Measurement only. */
import type { JsonShapeProblem } from '../../../src/http/json-depth.js';

export * from '../../../src/http/json-depth.js';

export function jsonShapeProblem(_value: unknown, _max: number): JsonShapeProblem | null {
  return null;
}
