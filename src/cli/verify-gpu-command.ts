/**
 * `sealgate verify-gpu`: one NVIDIA GPU's evidence (NVML's attestation report, raw or hex text)
 * with its device chain against the nonce the verifier chose, and with `--rim` (the driver and the
 * VBIOS RIM) its measurements against NVIDIA's signed reference values; with `--manifest` and
 * `--role`, the role's `gpu` reference values too (src/policy/evaluate-gpu.ts). Exit 0 verified, 1 rejected (every
 * violation listed), 2 usage or unreadable input. `--json` prints the verdict, the violations and
 * the claims as JSON; otherwise one line per finding.
 *
 * Revocation (OCSP, src/verify/nvidia/revocation.ts): answers come from `--ocsp FILE` (saved DER
 * OCSPResponses, repeatable, for offline checks) and, with `--ocsp-fetch`, from the responders.
 * The policy is the role's `gpu.ocsp` with `--manifest` (default "require"); without a manifest,
 * "require" when either flag is given. With neither a manifest nor a flag, revocation is not
 * checked, and the output says so.
 */
import { gpuClaimsJson } from '../attestation/gpu-claims-json.js';
import { fromHex } from '../bytes.js';
import { decodeCertificates } from '../der/pem.js';
import { isSealgateError } from '../errors.js';
import { evaluateGpu } from '../policy/evaluate-gpu.js';
import { isRoleName } from '../policy/evaluate-role.js';
import { type Manifest, ROLES } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { NVIDIA_GPU_ROOTS } from '../verify/nvidia/nvidia-roots.js';
import { DEFAULT_OCSP_POLICY, type RevocationOptions } from '../verify/nvidia/revocation.js';
import { type GpuClaims, verifyGpuEvidence } from '../verify/nvidia/verify-gpu.js';
import { type Violation, violation } from '../verify/violations.js';
import { parseFlags, parseInstant, UsageError } from './args.js';
import { readInput, readTextInput } from './io.js';
import { cliOcsp } from './ocsp-fetch.js';
import type { CommandResult } from './result.js';

export const VERIFY_GPU_USAGE =
  'verify-gpu --evidence FILE --chain FILE [--rim FILE]… --nonce HEX [--manifest FILE --role ROLE] [--ocsp FILE]… [--ocsp-fetch] [--at ISO-8601] [--json]';

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
    lines.push(...revocationLines(claims.revocation as GpuClaimsRevocation | null));
  }
  return `${lines.join('\n')}\n`;
}

type GpuClaimsRevocation = NonNullable<GpuClaims['revocation']>;

function revocationLines(r: GpuClaimsRevocation | null): string[] {
  if (r === null)
    return ['  revocation not checked (no OCSP policy: give --manifest, --ocsp or --ocsp-fetch)'];
  const good = r.certificates.filter((c) => c.status === 'good').length;
  const lines = [`  revocation (${r.policy}): ${good} of ${r.certificates.length} certificates good by OCSP`];
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

/** The OCSP policy and sources, or undefined when revocation is not to be checked. */
async function revocationOf(
  policy: { manifest: Manifest; role: string } | null,
  ocspFiles: readonly string[],
  fetchLive: boolean,
): Promise<RevocationOptions | undefined> {
  const saved = await Promise.all(ocspFiles.map((path) => readInput('ocsp', path)));
  const fetch = fetchLive ? cliOcsp() : undefined;
  if (policy !== null) {
    // A role without `gpu` may have no GPU (gpu_count_not_allowed follows): no OCSP policy to apply.
    const gpu = policy.manifest.roles[policy.role as keyof Manifest['roles']]?.gpu;
    return gpu === undefined ? undefined : { policy: gpu.ocsp ?? DEFAULT_OCSP_POLICY, saved, fetch };
  }
  if (saved.length === 0 && fetch === undefined) return undefined;
  return { policy: 'require', saved, fetch };
}

async function policyOf(
  manifestPath: string | undefined,
  role: string | undefined,
): Promise<{ manifest: Manifest; role: string } | null> {
  if ((manifestPath === undefined) !== (role === undefined)) {
    throw new UsageError('--manifest and --role go together');
  }
  if (manifestPath === undefined || role === undefined) return null;
  if (!isRoleName(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const text = await readTextInput('manifest', manifestPath);
  try {
    return { manifest: parseManifest(text), role };
  } catch (e) {
    if (!isSealgateError(e, 'invalid_manifest')) throw e;
    const errors = (e.detail?.errors as { path: string; message: string }[] | undefined) ?? [];
    const lines = errors.map((x) => `  ${x.path || '/'}: ${x.message}`).join('\n');
    throw new UsageError(`--manifest: ${manifestPath} is not a valid manifest:\n${lines}`);
  }
}

/** The role's gpu reference values for this one GPU; a role the manifest does not describe is role_unknown. */
function evaluatePolicy(policy: { manifest: Manifest; role: string }, claims: GpuClaims): Violation[] {
  const reference = policy.manifest.roles[policy.role as keyof Manifest['roles']];
  if (reference === undefined) {
    return [
      violation('role_unknown', `the manifest defines no reference values for role ${policy.role}`, {
        field: 'role',
      }),
    ];
  }
  return evaluateGpu([claims], reference.gpu);
}

export async function verifyGpuCommand(argv: readonly string[], now: () => Date): Promise<CommandResult> {
  const flags = parseFlags(argv, {
    values: ['evidence', 'chain', 'nonce', 'at', 'rim', 'manifest', 'role', 'ocsp'],
    repeatable: ['rim', 'ocsp'],
    switches: ['json', 'ocsp-fetch'],
    required: ['evidence', 'chain', 'nonce'],
  });
  const v = flags.values;
  const nonce = nonceOf(v.nonce!);
  const at = v.at ? parseInstant('at', v.at) : now();
  const evidence = await readInput('evidence', v.evidence!);
  const chain = await chainOf(v.chain!);
  const rims = await Promise.all((flags.lists.rim ?? []).map((path) => readInput('rim', path)));
  const policy = await policyOf(v.manifest, v.role);
  const revocation = await revocationOf(policy, flags.lists.ocsp ?? [], flags.switches.has('ocsp-fetch'));
  const result = await verifyGpuEvidence({
    evidence,
    chain,
    nonce,
    at,
    rims,
    roots: NVIDIA_GPU_ROOTS,
    ...(revocation ? { revocation } : {}),
  });
  if (policy !== null && result.claims !== null)
    result.violations.push(...evaluatePolicy(policy, result.claims));
  const verdict = result.violations.length === 0 ? 'verified' : 'rejected';
  const claims = gpuClaimsJson(result.claims);
  const stdout = flags.switches.has('json')
    ? `${JSON.stringify({ verdict, violations: result.violations, claims }, null, 2)}\n`
    : textReport(verdict, result.violations, claims);
  return { stdout, exitCode: verdict === 'verified' ? 0 : 1 };
}
