/**
 * `sealgate verify-gpu`: one NVIDIA GPU's evidence (NVML's attestation report, raw or hex text)
 * with its device chain against the nonce the verifier chose, and with `--rim` (the driver and the
 * VBIOS RIM) its measurements against NVIDIA's signed reference values. Exit 0 verified, 1 rejected (every
 * violation listed), 2 usage or unreadable input. `--json` prints the verdict, the violations and
 * the claims as JSON; otherwise one line per finding.
 */
import { gpuClaimsJson } from '../attestation/gpu-claims-json.js';
import { fromHex } from '../bytes.js';
import { decodeCertificates } from '../der/pem.js';
import { NVIDIA_GPU_ROOTS } from '../verify/nvidia/nvidia-roots.js';
import { verifyGpuEvidence } from '../verify/nvidia/verify-gpu.js';
import type { Violation } from '../verify/violations.js';
import { parseFlags, parseInstant, UsageError } from './args.js';
import { readInput } from './io.js';
import type { CommandResult } from './result.js';

export const VERIFY_GPU_USAGE =
  'verify-gpu --evidence FILE --chain FILE [--rim FILE]… --nonce HEX [--at ISO-8601] [--json]';

function nonceOf(hex: string): Uint8Array {
  try {
    return fromHex(hex, 32);
  } catch (e) {
    throw new UsageError(`--nonce: ${(e as Error).message} (want 64 hex characters)`);
  }
}

async function chainOf(path: string): Promise<Uint8Array[]> {
  const bytes = await readInput('chain', path);
  try {
    return decodeCertificates(bytes);
  } catch (e) {
    throw new UsageError(`--chain: ${path}: ${(e as Error).message}`);
  }
}

function textReport(
  verdict: string,
  violations: readonly Violation[],
  claims: Record<string, unknown> | null,
): string {
  const lines = [verdict];
  for (const v of violations) lines.push(`  ${v.code}${v.field ? ` (${v.field})` : ''}: ${v.message}`);
  if (claims) {
    lines.push(
      `  architecture ${claims.architecture}, driver ${claims.driverVersion}, VBIOS ${claims.vbiosVersion}`,
    );
    if (claims.rims)
      lines.push('  every active RIM measurement equals the report (driver and VBIOS RIMs verified)');
  }
  return `${lines.join('\n')}\n`;
}

export async function verifyGpuCommand(argv: readonly string[], now: () => Date): Promise<CommandResult> {
  const flags = parseFlags(argv, {
    values: ['evidence', 'chain', 'nonce', 'at', 'rim'],
    repeatable: ['rim'],
    switches: ['json'],
    required: ['evidence', 'chain', 'nonce'],
  });
  const v = flags.values;
  const nonce = nonceOf(v.nonce!);
  const at = v.at ? parseInstant('at', v.at) : now();
  const evidence = await readInput('evidence', v.evidence!);
  const chain = await chainOf(v.chain!);
  const rims = await Promise.all((flags.lists.rim ?? []).map((path) => readInput('rim', path)));
  const result = await verifyGpuEvidence({ evidence, chain, nonce, at, rims, roots: NVIDIA_GPU_ROOTS });
  const verdict = result.violations.length === 0 ? 'verified' : 'rejected';
  const claims = gpuClaimsJson(result.claims);
  const stdout = flags.switches.has('json')
    ? `${JSON.stringify({ verdict, violations: result.violations, claims }, null, 2)}\n`
    : textReport(verdict, result.violations, claims);
  return { stdout, exitCode: verdict === 'verified' ? 0 : 1 };
}
