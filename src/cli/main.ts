/**
 * The `sealgate` CLI: `npm run --silent sealgate -- <command>`. Commands return their output
 * (see `result.ts`) so tests run them in-process; this file maps usage errors to exit code 2.
 */
import { APIKEY_USAGE, apikeyCommand } from './apikey-command.js';
import { UsageError } from './args.js';
import { MANIFEST_USAGE, manifestCommand } from './manifest-command.js';
import { MEASURE_USAGE, measureCommand } from './measure-command.js';
import type { CommandResult } from './result.js';
import { VERIFY_USAGE, verifyCommand } from './verify-command.js';
import { VERIFY_ENDPOINT_USAGE, verifyEndpointCommand } from './verify-endpoint-command.js';
import { VERIFY_GPU_USAGE, verifyGpuCommand } from './verify-gpu-command.js';
import { VERIFY_RECEIPT_USAGE, verifyReceiptCommand } from './verify-receipt-command.js';
import { VERIFY_TDX_USAGE, verifyTdxCommand } from './verify-tdx-command.js';

export const USAGE = [
  'usage: sealgate <command>',
  '',
  `  ${VERIFY_USAGE}`,
  `  ${VERIFY_ENDPOINT_USAGE}`,
  `  ${VERIFY_GPU_USAGE}`,
  `  ${VERIFY_RECEIPT_USAGE}`,
  `  ${VERIFY_TDX_USAGE}`,
  ...MANIFEST_USAGE.map((u) => `  ${u}`),
  ...MEASURE_USAGE.map((u) => `  ${u}`),
  ...APIKEY_USAGE.map((u) => `  ${u}`),
  '  help',
].join('\n');

export async function runCli(
  argv: readonly string[],
  now: () => Date = () => new Date(),
): Promise<CommandResult> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'verify':
        return await verifyCommand(rest, now);
      case 'verify-endpoint':
        return await verifyEndpointCommand(rest, now);
      case 'verify-gpu':
        return await verifyGpuCommand(rest, now);
      case 'verify-receipt':
        return await verifyReceiptCommand(rest);
      case 'verify-tdx':
        return await verifyTdxCommand(rest, now);
      case 'manifest':
        return await manifestCommand(rest, now);
      case 'measure':
        return await measureCommand(rest);
      case 'apikey':
        return await apikeyCommand(rest, now);
      case 'help':
      case '--help':
      case '-h':
        return { stdout: `${USAGE}\n`, exitCode: 0 };
      default:
        throw new UsageError(command === undefined ? 'missing command' : `unknown command ${command}`);
    }
  } catch (e) {
    if (e instanceof UsageError)
      return { stdout: '', stderr: `sealgate: ${e.message}\n${USAGE}\n`, exitCode: 2 };
    throw e;
  }
}
