/**
 * `sealgate measure`: the SEV-SNP launch digest of an image, computed offline from its parts
 * (src/evidence/snp/measure). Input that cannot be read, parsed or measured is exit 2 with the reason.
 * The same flags describe an image to `manifest pin --from-image`.
 */
import { fromHex, toHex } from '../bytes.js';
import { isSealgateError } from '../errors.js';
import {
  computeSnpLaunchDigest,
  DEFAULT_GUEST_FEATURES,
  ovmfLaunchDigest,
  type SnpLaunchInput,
} from '../evidence/snp/measure/measure.js';
import { vcpuSignatureOf } from '../evidence/snp/measure/vcpu-types.js';
import { VMMS, type Vmm } from '../evidence/snp/measure/vmsa.js';
import { type FlagSpec, parseFlags, UsageError } from './args.js';
import { MAX_IMAGE_BYTES, readInput } from './io.js';
import type { CommandResult } from './result.js';

export const MEASURE_IMAGE_FLAGS =
  '--ovmf FILE [--ovmf-hash HEX] --vcpus N [--vcpu-type NAME | --vcpu-sig HEX] [--vmm qemu|ec2|gce] ' +
  '[--guest-features HEX] [--kernel FILE [--initrd FILE] [--append TEXT]]';
export const MEASURE_USAGE = [`measure ${MEASURE_IMAGE_FLAGS} [--json]`, 'measure ovmf-hash --ovmf FILE'];

/** The value flags that describe an image (shared with `manifest pin --from-image`). */
export const IMAGE_FLAGS = [
  'ovmf',
  'ovmf-hash',
  'vcpus',
  'vcpu-type',
  'vcpu-sig',
  'vmm',
  'guest-features',
  'kernel',
  'initrd',
  'append',
] as const;

const MEASURE_SPEC: FlagSpec = {
  values: IMAGE_FLAGS,
  switches: ['json'],
  required: ['ovmf', 'vcpus'],
  allowEmpty: ['append'],
};

/** `0x…` or bare hex, at most `digits` hex digits. */
function parseHexNumber(flag: string, value: string, digits: number): bigint {
  const m = /^(?:0x)?([0-9a-fA-F]+)$/.exec(value);
  if (!m || m[1]!.length > digits)
    throw new UsageError(`--${flag}: not a hex number of at most ${digits} digits`);
  return BigInt(`0x${m[1]}`);
}

function parseVcpus(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new UsageError(`--vcpus: not a positive integer: ${value}`);
  return Number(value);
}

function parseVmm(value: string | undefined): Vmm {
  if (value === undefined) return 'qemu';
  if (!(VMMS as readonly string[]).includes(value)) throw new UsageError(`--vmm: one of ${VMMS.join(', ')}`);
  return value as Vmm;
}

function vcpuSignature(v: Record<string, string>): number | undefined {
  if (v['vcpu-type'] !== undefined && v['vcpu-sig'] !== undefined) {
    throw new UsageError('give --vcpu-type or --vcpu-sig, not both');
  }
  if (v['vcpu-sig'] !== undefined) return Number(parseHexNumber('vcpu-sig', v['vcpu-sig'], 8));
  if (v['vcpu-type'] === undefined) return undefined;
  try {
    return vcpuSignatureOf(v['vcpu-type']);
  } catch (e) {
    if (isSealgateError(e, 'invalid_argument')) throw new UsageError(`--vcpu-type: ${e.message}`);
    throw e;
  }
}

function ovmfHash(value: string | undefined): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9a-fA-F]{96}$/.test(value))
    throw new UsageError('--ovmf-hash: not 96 hex digits (a SHA-384 digest)');
  return fromHex(value);
}

async function directBoot(v: Record<string, string>): Promise<SnpLaunchInput['directBoot']> {
  if (v.kernel === undefined) {
    if (v.initrd !== undefined || v.append !== undefined)
      throw new UsageError('--initrd and --append need --kernel');
    return undefined;
  }
  return {
    kernel: await readInput('kernel', v.kernel, MAX_IMAGE_BYTES),
    ...(v.initrd !== undefined ? { initrd: await readInput('initrd', v.initrd, MAX_IMAGE_BYTES) } : {}),
    ...(v.append !== undefined ? { cmdline: v.append } : {}),
  };
}

/** Reads the files the image flags name and checks every value; what the bytes mean is left to the domain. */
export async function launchInputFromFlags(v: Record<string, string>): Promise<SnpLaunchInput> {
  if (v.ovmf === undefined || v.vcpus === undefined)
    throw new UsageError('an image needs --ovmf and --vcpus');
  const vcpus = parseVcpus(v.vcpus);
  const vmm = parseVmm(v.vmm);
  const sig = vcpuSignature(v);
  if (sig === undefined && vmm === 'qemu') throw new UsageError('QEMU needs --vcpu-type or --vcpu-sig');
  const features = v['guest-features'];
  const hash = ovmfHash(v['ovmf-hash']);
  const boot = await directBoot(v);
  return {
    ovmf: await readInput('ovmf', v.ovmf, MAX_IMAGE_BYTES),
    ...(hash ? { ovmfHash: hash } : {}),
    vcpus,
    ...(sig !== undefined ? { vcpuSignature: sig } : {}),
    vmm,
    guestFeatures:
      features === undefined ? DEFAULT_GUEST_FEATURES : parseHexNumber('guest-features', features, 16),
    ...(boot ? { directBoot: boot } : {}),
  };
}

const MEASURE_ERRORS = ['invalid_argument', 'malformed_image', 'unmeasurable_launch'] as const;

/** Computes the digest; input the domain refuses becomes a usage-class error (exit 2) with its reason. */
export function measureLaunch(input: SnpLaunchInput): string {
  try {
    return toHex(computeSnpLaunchDigest(input));
  } catch (e) {
    if (MEASURE_ERRORS.some((code) => isSealgateError(e, code))) throw new UsageError((e as Error).message);
    throw e;
  }
}

/** `measure ovmf-hash`: the launch digest after OVMF's pages, for `--ovmf-hash` (sev-snp-measure's snp:ovmf-hash). */
async function ovmfHashCommand(argv: readonly string[]): Promise<CommandResult> {
  const { values } = parseFlags(argv, { values: ['ovmf'], required: ['ovmf'] });
  const ovmf = await readInput('ovmf', values.ovmf!, MAX_IMAGE_BYTES);
  try {
    return { stdout: `${toHex(ovmfLaunchDigest(ovmf))}\n`, exitCode: 0 };
  } catch (e) {
    if (isSealgateError(e, 'malformed_image')) throw new UsageError(e.message);
    throw e;
  }
}

export async function measureCommand(argv: readonly string[]): Promise<CommandResult> {
  if (argv[0] === 'ovmf-hash') return ovmfHashCommand(argv.slice(1));
  const flags = parseFlags(argv, MEASURE_SPEC);
  const measurement = measureLaunch(await launchInputFromFlags(flags.values));
  if (flags.switches.has('json')) return { stdout: `${JSON.stringify({ measurement })}\n`, exitCode: 0 };
  return { stdout: `${measurement}\n`, exitCode: 0 };
}
