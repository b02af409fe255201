/**
 * Shape checks shared by the API translations (src/api/*). A request the translation cannot carry
 * over faithfully is refused with `invalid_argument` (HTTP 400 `invalid_request`), never approximated.
 */
import { SealgateError } from '../errors.js';
import { isJsonObject } from '../json/object-guards.js';

export type Json = Record<string, unknown>;

/** The message names a field and what it must be: written for the API client (sealed to it). */
export function refuse(message: string): never {
  throw new SealgateError('invalid_argument', message, undefined, { clientMessage: message });
}

export function objectAt(value: unknown, where: string): Json {
  if (!isJsonObject(value)) refuse(`${where} must be an object`);
  return value;
}

export function stringAt(value: unknown, where: string): string {
  if (typeof value !== 'string') refuse(`${where} must be a string`);
  return value;
}

export function arrayAt(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) refuse(`${where} must be an array`);
  return value;
}

/** Refuses every field of `body` outside `known`: an unknown field is one the translation would drop. */
export function refuseUnknownFields(
  body: Json,
  known: ReadonlySet<string>,
  where: string,
  /** Fields that pass when they carry nothing (`carriesNothing`): an answer's metadata sent back. */
  echoed: readonly string[] = [],
): void {
  for (const field of Object.keys(body)) {
    if (known.has(field) || (echoed.includes(field) && carriesNothing(body[field]))) continue;
    refuse(`${where}.${field} is not supported when translated to chat completions`);
  }
}

/** `null` or an empty list: metadata a client echoes from an answer that adds nothing to a request. */
export function carriesNothing(value: unknown): boolean {
  return value === null || (Array.isArray(value) && value.length === 0);
}

/** Copies the fields of `from` that are present (not undefined) into `to` under their new names. */
export function copyPresent(from: Json, to: Json, names: Readonly<Record<string, string>>): void {
  for (const [source, target] of Object.entries(names)) {
    if (from[source] !== undefined) to[target] = from[source];
  }
}

/** A chat completion's `tool_calls[i].function.arguments` as an object (Anthropic `tool_use.input`). */
export function parseArguments(text: unknown): Json {
  if (typeof text !== 'string' || text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (isJsonObject(value)) return value;
  } catch {
    // fall through
  }
  throw new SealgateError('model_error', 'the model returned tool arguments that are not a JSON object');
}
