/**
 * The worker's log: one JSON object per line (time, level, message, detail), injected everywhere so
 * that tests can read what was logged. Details name codes, key ids and statuses — never key bytes
 * and never request or answer content.
 */
import { isSealgateError } from '../errors.js';

export type LogLevel = 'info' | 'warn' | 'error';

export type WorkerLog = (level: LogLevel, message: string, detail?: Record<string, unknown>) => void;

/** JSON lines on stderr (console.error is there in Node, workerd and browsers). */
export const consoleLog: WorkerLog = (level, message, detail) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level, message, ...detail }));
};

/**
 * What a log line may say about an error: a SealgateError's code, message and detail (written by us:
 * ids, statuses, never content); of anything else only its name — a foreign message can quote its
 * input (V8's JSON.parse errors quote the text they choke on), and input here is plaintext. A
 * message that is the client's text too (`clientMessage`: a translation's or the built-in model's
 * refusal) is left out: written for the client, it may quote its request — a field's name, a type's
 * value — and reaches it sealed (docs/protocol.md "Sealed error answer"); the code and detail stay.
 */
export function errorDetail(e: unknown): Record<string, unknown> {
  if (isSealgateError(e)) {
    const forClient = e.clientMessage !== undefined && e.clientMessage === e.message;
    return {
      code: e.code,
      ...(forClient ? {} : { error: e.message }),
      ...(e.detail ? { detail: e.detail } : {}),
    };
  }
  return { error: e instanceof Error ? e.name : typeof e };
}
