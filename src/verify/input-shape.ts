/**
 * Shape checks of the objects a caller hands the verifiers (caches, signature backends, fetchers).
 * They are TypeScript interfaces, so a caller that is not type-checked (JavaScript, a JSON-built
 * input) can pass `{}` or a cache whose `get` is not a function; the verifier would then throw a
 * TypeError from deep inside, or — worse — after some checks ran. Each entry point checks them
 * first and throws `invalid_argument` (the closed error set, src/errors.ts). Duck typing only:
 * what a method returns is still each backend's contract (signature-backend.ts invariants).
 */
import type { SignatureBackend } from './signature-backend.js';

/** True when `value` is an object (or class instance) whose every named member is a function. */
export function hasMethods(value: unknown, names: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const o = value as Record<string, unknown>;
  return names.every((n) => typeof o[n] === 'function');
}

/** Every method of SignatureBackend: the Record makes the compiler hold the list complete. */
const SIGNATURE_BACKEND: Record<keyof SignatureBackend, true> = {
  importEcdsaSpki: true,
  importEcdsaPoint: true,
  importRsaPssSpki: true,
  verifyEcdsa: true,
  verifyRsaPss: true,
  digest: true,
};
const SIGNATURE_BACKEND_METHODS = Object.keys(SIGNATURE_BACKEND);

/** Absent (undefined: the default backend), or an object with every SignatureBackend method. */
export function isOptionalSignatureBackend(value: unknown): boolean {
  return value === undefined || hasMethods(value, SIGNATURE_BACKEND_METHODS);
}

/** Absent (undefined), or an object with these methods: an optional cache or client. */
export function isOptionalWith(value: unknown, names: readonly string[]): boolean {
  return value === undefined || hasMethods(value, names);
}

/** Absent (undefined), or a finite number: an optional lifetime in seconds. */
export function isOptionalFinite(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && Number.isFinite(value));
}
