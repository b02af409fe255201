/**
 * The manifest's own error: every problem listed in `detail.errors` (path = RFC 6901 pointer, ""
 * for the whole document) and in the message as `invalid manifest: <path>: <message>; …`.
 */
import { utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import {
  describeProblems,
  type JsonProblem,
  type JsonValue,
  jsonProblems,
  parseStrictJson,
} from '../json/strict-json.js';

export function invalidManifest(errors: JsonProblem[]): SealgateError {
  return new SealgateError('invalid_manifest', `invalid manifest: ${describeProblems(errors)}`, { errors });
}

/** Manifest text through the strict JSON reader; its problems reported as the manifest's. */
export function parseManifestJson(text: string): JsonValue {
  try {
    return parseStrictJson(text);
  } catch (e) {
    const problems = jsonProblems(e);
    if (problems === null) throw e;
    throw invalidManifest(problems);
  }
}

/** A manifest given as UTF-8 bytes or JSON text → its JSON value (strictly); anything else as is. */
export function manifestJsonValue(input: unknown): unknown {
  if (typeof input === 'string') return parseManifestJson(input);
  if (!(input instanceof Uint8Array)) return input;
  let text: string;
  try {
    text = utf8.decode(input);
  } catch {
    throw invalidManifest([{ path: '', message: 'manifest bytes are not valid UTF-8' }]);
  }
  return parseManifestJson(text);
}
