/**
 * `sealgate manifest gateway-key --secret-file F`: the public half of the gateway's identity key
 * (src/keys/gateway-key.ts) for the GATEWAY_SECRET in F (one line; a trailing newline is ignored),
 * as the 64 hex characters `gateway.uploadKey` takes. The secret is read, never printed.
 * `--gateway-key HEX` of `manifest pin` writes it into the manifest (docs/manifest.md "gateway").
 */
import { toHex } from '../bytes.js';
import { deriveGatewayKey } from '../keys/gateway-key.js';
import type { Manifest } from '../policy/manifest-types.js';
import { parseFlags, UsageError } from './args.js';
import { readSecretFile } from './gateway-secret.js';
import type { CommandResult } from './result.js';

export async function gatewayKeyCommand(argv: readonly string[]): Promise<CommandResult> {
  const flags = parseFlags(argv, { values: ['secret-file'], required: ['secret-file'] });
  const secret = await readSecretFile('secret-file', flags.values['secret-file']!);
  const key = await deriveGatewayKey(secret);
  return { stdout: `${toHex(key.publicKey)}\n`, exitCode: 0 };
}

/** `manifest` with `gateway.uploadKey` set to `hex` (checked: 64 lower-case hex characters). */
export function withGatewayKey(manifest: Manifest, hex: string): Manifest {
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new UsageError(
      '--gateway-key: expected 64 lower-case hex characters (sealgate manifest gateway-key)',
    );
  }
  return { ...manifest, gateway: { uploadKey: hex } };
}
