/**
 * `sealgate verify`: the full decision on one report against the manifest given, printed as JSON.
 * Exit 0 trusted, 1 rejected (also: SIMULATED hardware without `--allow-simulated`), 2 usage or
 * unreadable input. `--report-data HEX` is required: without it a replayed report cannot be told
 * from a fresh one, so skipping the check takes `--any-report-data`, said explicitly.
 */

import { claimsJson } from '../attestation/claims-json.js';
import { verifySnpAttestation } from '../attestation/verify-snp-attestation.js';
import { fromHex } from '../bytes.js';
import { decodeCertificate, decodeCertificates } from '../der/pem.js';
import { isSealgateError } from '../errors.js';
import { nodeSignatures } from '../platform/node-signature-backend.js';
import { isRoleName } from '../policy/evaluate-role.js';
import { ROLES } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { findSnpTrustAnchor } from '../policy/trust-anchors.js';
import { parseFlags, parseInstant, UsageError } from './args.js';
import { readInput, readTextInput } from './io.js';
import { cliKds } from './kds-fetch.js';
import type { CommandResult } from './result.js';

export const VERIFY_USAGE =
  'verify --report FILE --cert FILE [--chain FILE] --manifest FILE --role ROLE (--report-data HEX | --any-report-data) [--allow-simulated] [--at ISO-8601]';

export async function loadCertificates(
  certPath: string,
  chainPath: string | undefined,
): Promise<{ leaf: Uint8Array; chain?: Uint8Array[] }> {
  const leafBytes = await readInput('cert', certPath);
  let leaf: Uint8Array;
  try {
    leaf = decodeCertificate(leafBytes);
  } catch (e) {
    throw new UsageError(`--cert: ${certPath}: ${(e as Error).message}`);
  }
  if (chainPath === undefined) return { leaf };
  const chainBytes = await readInput('chain', chainPath);
  let chain: Uint8Array[];
  try {
    chain = decodeCertificates(chainBytes);
  } catch (e) {
    throw new UsageError(`--chain: ${chainPath}: ${(e as Error).message}`);
  }
  if (chain.length !== 2) {
    throw new UsageError(
      `--chain: ${chainPath} must hold two certificates (ASK then ARK), found ${chain.length}`,
    );
  }
  return { leaf, chain };
}

export function checkRole(role: string): void {
  if (!isRoleName(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
}

export async function verifyCommand(argv: readonly string[], now: () => Date): Promise<CommandResult> {
  const flags = parseFlags(argv, {
    values: ['report', 'cert', 'chain', 'manifest', 'role', 'report-data', 'at'],
    switches: ['any-report-data', 'allow-simulated'],
    required: ['report', 'cert', 'manifest', 'role'],
  });
  const v = flags.values;
  checkRole(v.role!);
  if ((v['report-data'] === undefined) === !flags.switches.has('any-report-data')) {
    throw new UsageError('give --report-data HEX, or --any-report-data to skip that check explicitly');
  }
  const at = v.at ? parseInstant('at', v.at) : now();
  let expectedReportData: Uint8Array | undefined;
  if (v['report-data'] !== undefined) {
    try {
      expectedReportData = fromHex(v['report-data'], 64);
    } catch (e) {
      throw new UsageError(`--report-data: ${(e as Error).message} (want 128 hex characters)`);
    }
  }
  const report = await readInput('report', v.report!);
  const { leaf, chain } = await loadCertificates(v.cert!, v.chain);
  const manifestText = await readTextInput('manifest', v.manifest!);
  let manifest: ReturnType<typeof parseManifest>;
  try {
    manifest = parseManifest(manifestText);
  } catch (e) {
    if (isSealgateError(e, 'invalid_manifest')) {
      const errors = (e.detail?.errors as { path: string; message: string }[] | undefined) ?? [];
      const lines = errors.map((x) => `  ${x.path || '/'}: ${x.message}`).join('\n');
      throw new UsageError(`--manifest: ${v.manifest} is not a valid manifest:\n${lines}`);
    }
    throw e;
  }
  const verdict = await verifySnpAttestation({
    report,
    leaf,
    ...(chain ? { chain } : {}),
    manifest,
    role: v.role!,
    ...(expectedReportData ? { expectedReportData } : {}),
    now: at,
    ...(chain ? {} : { kds: cliKds() }),
    signatures: nodeSignatures,
  });
  const simulated =
    verdict.claims !== null &&
    findSnpTrustAnchor(manifest, verdict.claims.chain.rootSha256)?.simulated === true;
  const refused = simulated && !flags.switches.has('allow-simulated');
  const out = {
    verdict: refused ? 'rejected' : verdict.verdict,
    violations: verdict.violations,
    ...(simulated ? { simulated: true } : {}),
    claims: claimsJson(verdict.claims, verdict.report),
  };
  return {
    stdout: `${JSON.stringify(out, null, 2)}\n`,
    ...(simulated
      ? {
          stderr: refused
            ? 'sealgate: verify: SIMULATED hardware is not a pass without --allow-simulated\n'
            : 'sealgate: verify: WARNING: SIMULATED hardware — this proves nothing about real confidentiality\n',
        }
      : {}),
    exitCode: out.verdict === 'trusted' ? 0 : 1,
  };
}
