/**
 * Structured logs (one JSON line per event, Workers Logs / `wrangler tail` read them). Never
 * logged: API keys, KEKs, DEKs, prompts, answers. Details of why an attestation failed go here and
 * nowhere else (clients see a code).
 */
export type LogLevel = 'info' | 'warn' | 'error';

export function log(level: LogLevel, event: string, detail: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, component: 'sealgate-gateway', event, ...detail });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
