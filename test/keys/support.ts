/** Test helpers shared by test/keys and test/envelope. */
import { expect } from 'vitest';
import { type ErrorCode, SealgateError } from '../../src/errors.js';

/** Asserts that `run` rejects (or throws) a SealgateError with `code` and, when given, exact `message`. */
export async function expectSealgateError(
  run: Promise<unknown> | (() => unknown),
  code: ErrorCode,
  message?: string | RegExp,
): Promise<SealgateError> {
  let error: unknown;
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a SealgateError').toBeInstanceOf(SealgateError);
  const e = error as SealgateError;
  expect({ code: e.code, message: e.message }).toMatchObject({
    code,
    ...(typeof message === 'string' ? { message } : {}),
  });
  if (message instanceof RegExp) expect(e.message).toMatch(message);
  return e;
}
