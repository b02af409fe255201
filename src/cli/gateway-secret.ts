/**
 * GATEWAY_SECRET as the CLI reads it: from a file named by a flag (`readSecretFile`: one line, at
 * least MIN_SECRET_LENGTH characters, as the gateway requires), for `manifest gateway-key` and
 * `apikey`. The one `sealgate apikey` seals and checks `apikey:` entries under (the gateway
 * accepts only entries that authenticate under it: src/gateway/kv/kv-auth.ts, kind `apiKeyEntry`).
 * In order: `--secret-file F` (one line; a trailing newline is ignored), else the environment
 * variable SEALGATE_GATEWAY_SECRET, else — with `--local` only — the development stack's own
 * secret, `gateway-secret` in its dev dir (`SEALGATE_DEV_DIR`, default `.sealgate-dev`, as
 * `npm start` reads it: scripts/start.ts, src/dev/files.ts; what it hands `wrangler dev`).
 * No secret is a usage error, never an unauthenticated write. The secret is read, never printed.
 */
import { MIN_SECRET_LENGTH } from '../keys/gateway-key.js';
import { UsageError } from './args.js';
import { readTextInput } from './io.js';

export const SECRET_ENV = 'SEALGATE_GATEWAY_SECRET';
const devSecretPath = (env: Readonly<Record<string, string | undefined>>) =>
  `${env.SEALGATE_DEV_DIR || '.sealgate-dev'}/gateway-secret`;

const oneLine = (text: string) => text.replace(/\r?\n$/, '');

function checked(secret: string, from: string): string {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new UsageError(`${from}: GATEWAY_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  return secret;
}

/** The secret in the file given to `--<flag>` (one line; a trailing newline is ignored), checked. */
export async function readSecretFile(flag: string, path: string): Promise<string> {
  return checked(oneLine(await readTextInput(flag, path)), `--${flag}`);
}

/** The secret from `--secret-file`, the environment or (`local`) the dev stack; else a UsageError. */
export async function apikeySecret(
  secretFile: string | undefined,
  local: boolean,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  if (secretFile !== undefined) return readSecretFile('secret-file', secretFile);
  const fromEnv = env[SECRET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return checked(fromEnv, SECRET_ENV);
  const devPath = devSecretPath(env);
  if (local) {
    const text = await readTextInput('secret-file', devPath).catch(() => undefined);
    if (text !== undefined) return checked(oneLine(text), devPath);
  }
  throw new UsageError(
    `apikey entries are sealed under GATEWAY_SECRET: give --secret-file F or set ${SECRET_ENV}` +
      (local ? ` (the local stack's ${devPath} was not found)` : ''),
  );
}

/** `--old-secret-file F` of `apikey seal`: the secret entries were sealed under before a rotation. */
export async function oldSecret(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  return readSecretFile('old-secret-file', path);
}
