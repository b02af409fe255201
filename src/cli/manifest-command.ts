/**
 * `sealgate manifest pin|digest|check|gateway-key`.
 */
import { isSealgateError } from '../errors.js';
import { nodeSignatures } from '../platform/node-signature-backend.js';
import { manifestDigest } from '../policy/manifest-digest.js';
import type { GpuReferenceValues, Manifest, RoleName } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { parseFlags, parseInstant, UsageError } from './args.js';
import { readInput, readTextInput } from './io.js';
import { cliKds } from './kds-fetch.js';
import { gatewayKeyCommand, withGatewayKey } from './manifest-gateway-key.js';
import { pinManifest } from './manifest-pin.js';
import { pinGpuReference } from './manifest-pin-gpu.js';
import { pinTdxManifest } from './manifest-pin-tdx.js';
import { IMAGE_FLAGS, launchInputFromFlags, MEASURE_IMAGE_FLAGS, measureLaunch } from './measure-command.js';
import type { CommandResult } from './result.js';
import { checkRole, loadCertificates } from './verify-command.js';
import { loadCollateral } from './verify-tdx-command.js';

export const MANIFEST_USAGE = [
  'manifest pin --report FILE --cert FILE [--chain FILE] --role ROLE [--at ISO-8601] [--allow-debug] [--gateway-key HEX]',
  `    [--measurement HEX]... [--from-image ${MEASURE_IMAGE_FLAGS}]`,
  '    [--gpu-evidence FILE --gpu-chain FILE]... [--rim FILE]...',
  'manifest pin --tdx-quote FILE --collateral FILE [--event-log FILE] --role ROLE [--at ISO-8601] [--gateway-key HEX]',
  '    [--gpu-evidence FILE --gpu-chain FILE]... [--rim FILE]...',
  'manifest gateway-key --secret-file FILE',
  'manifest digest FILE',
  'manifest check FILE',
];

/** `--gpu-evidence`/`--gpu-chain` pairs (in order) and `--rim`s → the role's `gpu` values, or exit 1. */
async function pinGpus(
  lists: Record<string, string[] | undefined>,
  at: Date,
  role: RoleName,
): Promise<{ gpu: GpuReferenceValues | undefined; warnings: string[] } | CommandResult> {
  const evidence = lists['gpu-evidence'] ?? [];
  const chains = lists['gpu-chain'] ?? [];
  const rims = lists.rim ?? [];
  if (evidence.length !== chains.length)
    throw new UsageError('give one --gpu-chain per --gpu-evidence, in order');
  if (evidence.length === 0) {
    if (rims.length > 0) throw new UsageError('--rim needs --gpu-evidence');
    return { gpu: undefined, warnings: [] };
  }
  if (role !== 'worker') throw new UsageError('--gpu-evidence pins the worker role only');
  const gpus = await Promise.all(
    evidence.map(async (e, i) => ({
      evidence: await readInput('gpu-evidence', e),
      chain: await readInput('gpu-chain', chains[i]!),
    })),
  );
  const result = await pinGpuReference({
    gpus,
    rims: await Promise.all(rims.map((r) => readInput('rim', r))),
    at,
  });
  if (!result.ok) {
    const lines = result.violations.map((x) => `  ${x.code}: ${x.message}`).join('\n');
    return {
      stdout: '',
      stderr: `refusing to pin GPU evidence that does not verify:\n${lines}\n`,
      exitCode: 1,
    };
  }
  return { gpu: result.gpu, warnings: result.warnings };
}

function withGpu(manifest: Manifest, role: RoleName, gpu: GpuReferenceValues | undefined): Manifest {
  if (gpu === undefined) return manifest;
  return { ...manifest, roles: { ...manifest.roles, [role]: { ...manifest.roles[role]!, gpu } } };
}

function formatIssues(e: unknown): string | null {
  if (!isSealgateError(e, 'invalid_manifest')) return null;
  const errors = (e.detail?.errors as { path: string; message: string }[] | undefined) ?? [];
  return errors.map((x) => `  ${x.path || '/'}: ${x.message}`).join('\n');
}

/** Reads and strictly parses a manifest file; an invalid one is exit 1 with every error listed. */
async function loadManifest(path: string): Promise<{ manifest: Manifest } | CommandResult> {
  const text = await readTextInput('manifest', path);
  try {
    return { manifest: parseManifest(text) };
  } catch (e) {
    const issues = formatIssues(e);
    if (issues === null) throw e;
    return { stdout: '', stderr: `${path}: not a valid manifest:\n${issues}\n`, exitCode: 1 };
  }
}

/**
 * The measurements to pin instead of the report's: each `--measurement`, and the one computed from
 * `--from-image` and the image flags. Undefined when neither is given (pin the report's).
 */
async function computedMeasurements(
  given: string[],
  flags: { values: Record<string, string>; switches: Set<string> },
): Promise<string[] | undefined> {
  const imageFlag = IMAGE_FLAGS.find((f) => f in flags.values);
  const fromImage = flags.switches.has('from-image');
  if (imageFlag && !fromImage) throw new UsageError(`--${imageFlag} describes an image: add --from-image`);
  const out = given.map((m) => {
    if (!/^[0-9a-fA-F]{96}$/.test(m))
      throw new UsageError('--measurement: not 96 hex digits (a launch digest)');
    return m.toLowerCase();
  });
  if (fromImage) out.push(measureLaunch(await launchInputFromFlags(flags.values)));
  return out.length === 0 ? undefined : [...new Set(out)];
}

/**
 * `manifest pin --tdx-quote FILE --collateral FILE [--event-log FILE] --role ROLE [--at]
 * [--gateway-key HEX] [--gpu-evidence FILE --gpu-chain FILE [--rim FILE]]…` (manifest-pin-tdx.ts).
 */
async function pinTdx(flags: PinFlags, now: () => Date): Promise<CommandResult> {
  const v = flags.values;
  for (const f of ['tdx-quote', 'collateral']) if (v[f] === undefined) throw new UsageError(`missing --${f}`);
  for (const f of ['report', 'cert', 'chain', 'measurement', ...IMAGE_FLAGS]) {
    if (v[f] !== undefined) throw new UsageError(`--${f} is for SEV-SNP; not with --tdx-quote`);
  }
  if (flags.switches.size > 0)
    throw new UsageError(`--${[...flags.switches][0]} is for SEV-SNP; not with --tdx-quote`);
  checkRole(v.role!);
  const at = v.at ? parseInstant('at', v.at) : now();
  const quote = await readInput('tdx-quote', v['tdx-quote']!);
  const collateral = await loadCollateral(v.collateral!);
  const eventLog = v['event-log'] === undefined ? null : await readInput('event-log', v['event-log']);
  const result = await pinTdxManifest({
    quote,
    collateral,
    eventLog,
    role: v.role as RoleName,
    now: at,
    signatures: nodeSignatures,
  });
  if (!result.ok) {
    const lines = result.violations.map((x) => `  ${x.code}: ${x.message}`).join('\n');
    return { stdout: '', stderr: `refusing to pin evidence that does not verify:\n${lines}\n`, exitCode: 1 };
  }
  const gpu = await pinGpus(flags.lists, at, v.role as RoleName);
  if ('exitCode' in gpu) return gpu;
  return finishPin(withGpu(result.manifest, v.role as RoleName, gpu.gpu), v['gateway-key'], gpu.warnings);
}

async function digestOrCheck(sub: 'digest' | 'check', rest: readonly string[]): Promise<CommandResult> {
  const { positionals } = parseFlags(rest, { values: [], positionals: 1 });
  const loaded = await loadManifest(positionals[0]!);
  if (!('manifest' in loaded)) return loaded;
  const digest = await manifestDigest(loaded.manifest);
  if (sub === 'digest') return { stdout: `${digest}\n`, exitCode: 0 };
  return { stdout: `ok ${digest} ${loaded.manifest.name}\n`, exitCode: 0 };
}

const pinFlags = (rest: readonly string[]) =>
  parseFlags(rest, {
    values: [
      'report',
      'cert',
      'chain',
      'role',
      'at',
      'measurement',
      'tdx-quote',
      'collateral',
      'event-log',
      'gateway-key',
      'gpu-evidence',
      'gpu-chain',
      'rim',
      ...IMAGE_FLAGS,
    ],
    switches: ['allow-debug', 'from-image'],
    required: ['role'],
    repeatable: ['measurement', 'gpu-evidence', 'gpu-chain', 'rim'],
    allowEmpty: ['append'],
  });

type PinFlags = ReturnType<typeof pinFlags>;

/** `manifest pin` of SEV-SNP evidence: verify it, then print the manifest that pins what it saw. */
async function pinSnp(flags: PinFlags, now: () => Date): Promise<CommandResult> {
  const v = flags.values;
  for (const f of ['report', 'cert']) if (v[f] === undefined) throw new UsageError(`missing --${f}`);
  checkRole(v.role!);
  const measurements = await computedMeasurements(flags.lists.measurement ?? [], flags);
  const at = v.at ? parseInstant('at', v.at) : now();
  const report = await readInput('report', v.report!);
  const { leaf, chain } = await loadCertificates(v.cert!, v.chain);
  const result = await pinManifest({
    signatures: nodeSignatures,
    report,
    leaf,
    ...(chain ? { chain } : { kds: cliKds() }),
    role: v.role as RoleName,
    now: at,
    allowDebug: flags.switches.has('allow-debug'),
    ...(measurements ? { measurements } : {}),
  });
  if (!result.ok) {
    const lines = result.violations.map((x) => `  ${x.code}: ${x.message}`).join('\n');
    return { stdout: '', stderr: `refusing to pin evidence that does not verify:\n${lines}\n`, exitCode: 1 };
  }
  const gpu = await pinGpus(flags.lists, at, v.role as RoleName);
  if ('exitCode' in gpu) return gpu;
  return finishPin(withGpu(result.manifest, v.role as RoleName, gpu.gpu), v['gateway-key'], [
    ...result.warnings,
    ...gpu.warnings,
  ]);
}

/** The pinned manifest with the gateway's key, checked by our own parser, and the warnings. */
function finishPin(pinned: Manifest, gatewayKey: string | undefined, warned: string[]): CommandResult {
  const manifest = gatewayKey === undefined ? pinned : withGatewayKey(pinned, gatewayKey);
  // The manifest we print must pass our own parser: never hand out something we would refuse.
  parseManifest(JSON.stringify(manifest));
  const warnings = [
    ...warned,
    ...(gatewayKey === undefined
      ? ['no --gateway-key: an attestation service refuses to start on this manifest']
      : []),
  ];
  const stderr = warnings.map((w) => `warning: ${w}\n`).join('');
  return { stdout: `${JSON.stringify(manifest, null, 2)}\n`, stderr, exitCode: 0 };
}

export async function manifestCommand(argv: readonly string[], now: () => Date): Promise<CommandResult> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'digest':
    case 'check':
      return digestOrCheck(sub, rest);
    case 'pin': {
      const flags = pinFlags(rest);
      const v = flags.values;
      if (v['tdx-quote'] !== undefined || v.collateral !== undefined) return await pinTdx(flags, now);
      if (v['event-log'] !== undefined)
        throw new UsageError('--event-log is for TDX; use it with --tdx-quote');
      return await pinSnp(flags, now);
    }
    case 'gateway-key':
      return gatewayKeyCommand(rest);
    default:
      throw new UsageError(
        sub === undefined
          ? 'manifest: missing subcommand (pin, gateway-key, digest, check)'
          : `manifest: unknown subcommand ${sub}`,
      );
  }
}
