/**
 * `sealgate verify-endpoint URL [--manifest FILE | --manifest-digest HEX] [--save-manifest FILE]
 * [--allow-simulated] [--at ISO-8601]` (docs/verifiability.md "The
 * CLI"): attests the attestation service THROUGH the gateway with a nonce drawn here, and checks
 * everything on this machine, taking nothing on the gateway's word:
 *
 *   1. `GET URL/v1/attestation?nonce=<ours>` → the raw evidence bundle, the manifest, the EAR;
 *   2. the manifest: the pinned file (`--manifest`), or — without it — the endpoint's own, said so
 *      loudly (trust on first use) with its digest to pin next time;
 *   3. the bundle, with the same `verifyEvidenceBundle` the gateway and `sealgate verify` rely on:
 *      chain to a root the manifest pins (AMD's, or the simulator's when the manifest says so), the
 *      report signature, every reference value, REPORT_DATA = our nonce ‖ the manifest digest ‖ the
 *      service's keys, and the service running the same manifest;
 *   4. the EAR: signature against `URL/.well-known/jwks.json`, our nonce, the manifest digest as
 *      policy id, the status our own appraisal gives (ear.ts `expectedStatus`), and every other
 *      claim equal to what our appraisal makes (ear.ts `checkEarClaims`);
 *   5. the manifest history (`URL/v1/manifest`): the hash chain holds and its newest entry is the
 *      manifest served.
 *
 * Prints the chain in plain words. Exit 0 only if every step holds against a pinned manifest, 1
 * otherwise (also when the endpoint cannot be reached, or SIMULATED without `--allow-simulated`),
 * 2 on bad usage, 3 when every step holds but nothing was pinned (`verdictOf`).
 */

import { writeFile } from 'node:fs/promises';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { checkEarClaims } from '../attestation/ear.js';
import { type EvidenceBundle, parseEvidenceBundle } from '../attestation/evidence-bundle.js';
import { NONCE_LENGTH } from '../attestation/report-data.js';
import { appraisalOf } from '../attestation/service-appraisal.js';
import { verifyEvidenceBundle } from '../attestation/verify-evidence-bundle.js';
import { toHex } from '../bytes.js';
import { isSealgateError } from '../errors.js';
import { type ManifestLogEntry, verifyManifestLog } from '../gateway/verification/manifest-chain.js';
import { nodeSignatures } from '../platform/node-signature-backend.js';
import { manifestDigest } from '../policy/manifest-digest.js';
import type { Manifest } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { answerText } from './answer-text.js';
import { parseFlags, parseInstant, UsageError } from './args.js';
import { gatewayBaseUrl } from './gateway-url.js';
import { readTextInput } from './io.js';
import { cliKds, cliPcs } from './kds-fetch.js';
import { printable } from './printable.js';
import type { CommandResult } from './result.js';
import { checkListedWorkers } from './verify-endpoint-workers.js';

export const VERIFY_ENDPOINT_USAGE =
  'verify-endpoint URL [--manifest FILE | --manifest-digest HEX] [--save-manifest FILE] [--allow-simulated] [--at ISO-8601]';

const TIMEOUT_MS = 30_000;

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

class Report {
  readonly lines: string[] = [];
  failed = false;
  simulated = false;
  /** The manifest text the endpoint served (its exact bytes are what `--save-manifest` writes). */
  served: string | null = null;
  say(line: string) {
    this.lines.push(line);
  }
  ok(line: string) {
    this.lines.push(`  ✔ ${line}`);
  }
  fail(line: string) {
    this.failed = true;
    this.lines.push(`  ✘ ${line}`);
  }
  check(holds: boolean, yes: string, no: string) {
    if (holds) this.ok(yes);
    else this.fail(no);
  }
}

async function getJson(
  fetchFn: Fetch,
  url: string,
): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetchFn(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await answerText(res, url);
  try {
    const body = JSON.parse(text) as unknown;
    return {
      status: res.status,
      body: typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null,
    };
  } catch {
    return { status: res.status, body: null };
  }
}

export async function verifyEndpointCommand(
  argv: readonly string[],
  now: () => Date,
  fetchFn: Fetch = (url, init) => fetch(url, init),
): Promise<CommandResult> {
  const flags = parseFlags(argv, {
    values: ['manifest', 'manifest-digest', 'save-manifest', 'at'],
    switches: ['allow-simulated'],
    positionals: 1,
  });
  const pinnedDigest = flags.values['manifest-digest']?.toLowerCase();
  if (pinnedDigest !== undefined && !/^[0-9a-f]{64}$/.test(pinnedDigest)) {
    throw new UsageError('--manifest-digest must be 64 hex characters (SHA-256)');
  }
  if (pinnedDigest !== undefined && flags.values.manifest !== undefined) {
    throw new UsageError('--manifest and --manifest-digest: give one');
  }
  const base = gatewayBaseUrl(flags.positionals[0]!);
  const at = flags.values.at ? parseInstant('at', flags.values.at) : now();
  let pinnedText: string | undefined;
  if (flags.values.manifest !== undefined) {
    pinnedText = await readTextInput('manifest', flags.values.manifest);
    try {
      parseManifest(pinnedText);
    } catch (e) {
      throw new UsageError(
        `--manifest: ${flags.values.manifest} is not a valid manifest (${(e as Error).message})`,
      );
    }
  }
  const r = new Report();
  r.say(`Verifying ${base}`);
  try {
    await run(r, { base, at, pinnedText, pinnedDigest, pinnedPath: flags.values.manifest, fetchFn });
  } catch (e) {
    r.fail(`could not complete: ${isSealgateError(e) ? `${e.code}: ` : ''}${(e as Error).message}`);
  }
  const save = flags.values['save-manifest'];
  // Only a manifest every link held for is written: a pin is what the next run trusts, and FILE
  // may be the pin itself (`--manifest F --save-manifest F` against a swapped manifest).
  if (save !== undefined && r.served !== null && r.failed) {
    r.say(`Not saved to ${save}: a link of the chain did not hold, so the served manifest is no pin.`);
  } else if (save !== undefined && r.served !== null) {
    await writeFile(save, r.served); // the served manifest's exact bytes: its digest is the pin
    r.say(`Saved the served manifest to ${save}; pin it with --manifest ${save}.`);
  }
  const pinned = pinnedText !== undefined || pinnedDigest !== undefined;
  return verdictOf(r, pinned, flags.switches.has('allow-simulated'));
}

/**
 * Exit 0 only for VERIFIED against what the user pinned; 1 rejected (SIMULATED hardware too,
 * unless `--allow-simulated`); 3 every link holds but nothing was pinned (trust on first use).
 */
function verdictOf(r: Report, pinned: boolean, allowSimulated: boolean): CommandResult {
  let exitCode: 0 | 1 | 3;
  if (r.failed) {
    exitCode = 1;
    r.say('Verdict: NOT VERIFIED — do not send this endpoint anything you would not publish.');
  } else if (r.simulated && !allowSimulated) {
    exitCode = 1;
    r.say(
      'Verdict: NOT VERIFIED — SIMULATED hardware (pass --allow-simulated to accept it for development).',
    );
  } else if (!pinned) {
    exitCode = 3;
    r.say('Verdict: NOT PINNED — the chain holds for the manifest the endpoint chose itself.');
    r.say('         Pin it (--save-manifest FILE, then --manifest FILE) and run again.');
  } else {
    exitCode = 0;
    r.say(
      r.simulated
        ? 'Verdict: VERIFIED — but on SIMULATED hardware: for development only, nothing is protected by hardware.'
        : 'Verdict: VERIFIED — every link of the chain holds.',
    );
  }
  // Each line may quote the endpoint (its error text, a parse failure): no control characters.
  return { stdout: `${r.lines.map(printable).join('\n')}\n`, exitCode };
}

interface RunOptions {
  base: string;
  at: Date;
  pinnedText: string | undefined;
  pinnedDigest: string | undefined;
  pinnedPath: string | undefined;
  fetchFn: Fetch;
}

/** What the steps after the first share: our nonce, the endpoint's answer, the manifest judged by. */
interface Judged {
  nonce: Uint8Array;
  nonceHex: string;
  answer: Record<string, unknown>;
  manifest: Manifest;
  digest: string;
}

/** Steps 1–5 of the header, in order; a step that leaves nothing to check stops the run. */
async function run(r: Report, o: RunOptions): Promise<void> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
  const nonceHex = toHex(nonce);
  r.say(`  our nonce (fresh, drawn here): ${nonceHex}`);
  const answer = await fetchAttestation(r, o, nonceHex);
  if (answer === null) return;
  const judged = await chooseManifest(r, o, answer);
  if (judged === null) return;
  const j: Judged = { nonce, nonceHex, answer, ...judged };
  const evidence = await checkEvidence(r, o, j);
  if (evidence === null) return;
  await checkEar(r, o, j, evidence);
  const signing = evidence.verdict.keys?.signing;
  if (signing) {
    const found = await checkListedWorkers({
      listed: j.answer.workers,
      serviceSigningKey: signing,
      manifest: j.manifest,
      manifestDigest: j.digest,
      at: o.at,
    });
    for (const f of found) f.ok ? r.ok(f.text) : r.fail(f.text);
  }
  await checkHistory(r, o, j.digest);
  if (evidence.simulated)
    r.say(`  !! SIMULATED HARDWARE: the evidence comes from a software simulator, not from ${evidence.tee}.`);
}

/** 1. The endpoint's attestation for our nonce, or null (said) when it gives none. */
async function fetchAttestation(
  r: Report,
  o: RunOptions,
  nonceHex: string,
): Promise<Record<string, unknown> | null> {
  const answer = await getJson(o.fetchFn, `${o.base}/v1/attestation?nonce=${nonceHex}`);
  if (answer.status === 200 && answer.body) return answer.body;
  const err = (answer.body?.error as { code?: string; message?: string } | undefined) ?? {};
  r.fail(
    `the endpoint gave no attestation (HTTP ${answer.status}${err.code ? `, ${err.code}: ${err.message}` : ''})`,
  );
  return null;
}

/** 2. Which manifest we judge by: the pinned one, else the served one (trust on first use). */
async function chooseManifest(
  r: Report,
  o: RunOptions,
  answer: Record<string, unknown>,
): Promise<{ manifest: Manifest; digest: string } | null> {
  const served = typeof answer.manifest === 'string' ? answer.manifest : '';
  if (served) r.served = served;
  let manifestText: string;
  if (o.pinnedDigest !== undefined) {
    manifestText = served;
    const digest = await manifestDigest(manifestText).catch(() => 'unparseable');
    r.say(`  manifest: the endpoint's, pinned by digest ${o.pinnedDigest}`);
    r.check(
      digest === o.pinnedDigest,
      'the gateway serves under exactly the pinned manifest',
      `the gateway serves under ANOTHER manifest (digest ${digest})`,
    );
  } else if (o.pinnedText !== undefined) {
    manifestText = o.pinnedText;
    const digest = await manifestDigest(manifestText);
    r.say(`  manifest: pinned (${o.pinnedPath}), digest ${digest}`);
    const servedDigest = served ? await manifestDigest(served).catch(() => 'unparseable') : 'absent';
    r.check(
      servedDigest === digest,
      'the gateway serves under exactly this manifest',
      `the gateway serves under ANOTHER manifest (digest ${servedDigest})`,
    );
  } else {
    if (!served) {
      r.fail('the endpoint names no manifest (no "manifest" text in its attestation answer)');
      return null;
    }
    manifestText = served;
    const digest = await manifestDigest(manifestText);
    r.say(`  manifest: taken from the endpoint itself — TRUST ON FIRST USE. Its digest is ${digest};`);
    r.say('            save it (--save-manifest FILE) and pin it next time with --manifest FILE.');
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(manifestText);
  } catch (e) {
    r.fail(`the manifest does not parse (${(e as Error).message})`);
    return null;
  }
  return { manifest, digest: await manifestDigest(manifestText) };
}

interface EvidenceFindings {
  verdict: Awaited<ReturnType<typeof verifyEvidenceBundle>>;
  simulated: boolean;
  /** The TEE the bundle's evidence is from. */
  tee: 'AMD SEV-SNP' | 'Intel TDX';
  measurement: string | null;
}

/** 3. The hardware evidence, verified here; null (said) when the bundle does not even parse. */
async function checkEvidence(r: Report, o: RunOptions, j: Judged): Promise<EvidenceFindings | null> {
  let bundle: EvidenceBundle;
  try {
    bundle = parseEvidenceBundle(j.answer.evidence);
  } catch (e) {
    r.fail(`the evidence bundle is malformed (${(e as Error).message})`);
    return null;
  }
  const verdict = await verifyEvidenceBundle({
    bundle,
    manifest: j.manifest,
    manifestDigest: j.digest,
    role: 'attestation-service',
    nonce: j.nonce,
    now: o.at,
    kds: cliKds(),
    pcs: cliPcs(process.env.SEALGATE_PCS_URL),
    signatures: nodeSignatures,
  });
  const simulated = verdict.simulated;
  r.simulated = simulated;
  const refusedByPolicy = sayPolicyRefusals(r, verdict);
  sayEvidenceChain(r, verdict, refusedByPolicy);
  const measurement = sayReferenceValues(r, verdict);
  sayTcb(r, verdict);
  return { verdict, simulated, measurement, tee: bundle.platform === 'tdx' ? 'Intel TDX' : 'AMD SEV-SNP' };
}

type EvidenceVerdict = EvidenceFindings['verdict'];

/** The manifest's refusals made before any evidence is looked at (`sayPolicyRefusals`). */
const POLICY_FIRST = new Set(['tee_not_allowed', 'role_unknown']);
const TEE_NAMES: Readonly<Record<string, string>> = { snp: 'AMD SEV-SNP', tdx: 'Intel TDX' };

/**
 * The manifest's refusals made before any evidence is looked at (src/policy/evaluate-role.ts
 * `checkTeeAllowed`): a TEE the role does not accept — an SEV-SNP-only manifest against a TDX
 * endpoint — or a role it does not name. Said first, as the cause: the signature and the chain
 * were then never checked, and a chain failure said before it would misname why the run fails.
 * Returns whether there was one.
 */
function sayPolicyRefusals(r: Report, verdict: EvidenceVerdict): boolean {
  const refusals = verdict.violations.filter((v) => POLICY_FIRST.has(v.code));
  for (const v of refusals) {
    const accepted = Array.isArray(v.expected)
      ? ` (the manifest accepts: ${v.expected.map((t) => TEE_NAMES[String(t)] ?? String(t)).join(', ') || 'none'})`
      : '';
    r.fail(`${v.code}: ${v.message}${accepted}`);
  }
  return refusals.length > 0;
}

/**
 * Whose signature and which root: an SEV-SNP report's VCEK/VLEK chain, or a TDX quote's PCK chain;
 * after a refusal by the manifest (`refusedByPolicy`), that they were not checked.
 */
function sayEvidenceChain(r: Report, verdict: EvidenceVerdict, refusedByPolicy: boolean): void {
  const rootNote = verdict.simulated ? '(the SIMULATED development root the manifest names)' : null;
  if (verdict.claims) {
    const c = verdict.claims;
    r.ok(
      `hardware evidence: an SEV-SNP report signed by a ${c.signingKey.toUpperCase()} that chains to root ${c.chain.rootSha256.slice(0, 16)}… ` +
        (rootNote ?? `(AMD ${c.product} root pinned by the manifest)`),
    );
  } else if (verdict.tdx) {
    const t = verdict.tdx;
    r.ok(
      `hardware evidence: an Intel TDX quote (v${t.quoteVersion}) whose PCK chain and collateral chain to SGX root ${t.rootSha256.slice(0, 16)}… ` +
        (rootNote ?? "(Intel's SGX Root CA)"),
    );
  } else if (refusedByPolicy) {
    r.fail('the hardware evidence was not checked: the manifest refuses it before its signature');
  } else {
    r.fail('the hardware evidence does not verify (signature or certificate chain)');
  }
}

/**
 * REPORT_DATA and the measurement, then every other violation by its code; returns the measurement
 * (hex) or null. Both are evaluated only on claims whose signature verified: without them nothing
 * here was checked, and nothing may read as holding.
 */
function sayReferenceValues(r: Report, verdict: EvidenceVerdict): string | null {
  const codes = new Set<string>(verdict.violations.map((v) => v.code));
  const claims = verdict.claims ?? verdict.tdx;
  const bound =
    claims !== null &&
    !['report_data_mismatch', 'nonce_mismatch', 'manifest_mismatch', 'role_mismatch'].some((c) =>
      codes.has(c),
    );
  r.check(
    bound,
    'the report is bound to OUR nonce, this manifest digest and the service’s keys (REPORT_DATA)',
    'the report is NOT bound to our nonce and this manifest (REPORT_DATA, nonce or manifest differ)',
  );
  const measurement = verdict.report
    ? toHex(verdict.report.measurement)
    : verdict.tdx
      ? toHex(verdict.tdx.body.mrTd)
      : null;
  const what = verdict.tdx ? 'MRTD' : 'launch measurement';
  r.check(
    claims !== null &&
      !codes.has('measurement_not_allowed') &&
      !codes.has('mrtd_not_allowed') &&
      measurement !== null,
    `the service's ${what} ${measurement} is one the manifest allows`,
    `the service's ${what} ${measurement ?? '(unreadable)'} is NOT one the manifest allows`,
  );
  for (const v of verdict.violations) {
    if (v.code === 'measurement_not_allowed' || v.code === 'mrtd_not_allowed') continue;
    if (POLICY_FIRST.has(v.code)) continue; // said first (`sayPolicyRefusals`)
    r.fail(`${v.code}: ${v.message}`);
  }
  return measurement;
}

/** The TCB the evidence reports, said only when the verdict is trusted (it then meets the manifest). */
function sayTcb(r: Report, verdict: EvidenceVerdict): void {
  if (verdict.verdict !== 'trusted') return;
  if (verdict.tdx) {
    const t = verdict.tdx;
    const advisories = t.tcb.advisoryIds.length ? t.tcb.advisoryIds.join(', ') : 'no advisories';
    r.ok(
      `TDX TCB status ${t.tcb.status} (${advisories}), module ${t.tcb.tdxModule?.id ?? '—'}, RTMR0–3 ${t.body.rtmrs.map((x) => toHex(x).slice(0, 12)).join('…, ')}…: as the manifest allows`,
    );
  }
  if (verdict.claims) {
    const t = verdict.claims.reportedTcb;
    r.ok(
      `TCB (reported) bootloader ${t.bootloader}, tee ${t.tee}, snp ${t.snp}, microcode ${t.microcode}${t.fmc === undefined ? '' : `, fmc ${t.fmc}`}: at least the manifest's minimum; guest policy and VMPL as required`,
    );
  }
}

/** 4. The gateway's own verdict, signed: every claim of its EAR is what our own appraisal makes. */
async function checkEar(r: Report, o: RunOptions, j: Judged, e: EvidenceFindings): Promise<void> {
  const jwks = await getJson(o.fetchFn, `${o.base}/.well-known/jwks.json`);
  if (jwks.status !== 200 || !jwks.body || typeof j.answer.ear !== 'string') {
    r.fail(`no EAR or no JWKS to check it with (HTTP ${jwks.status})`);
    return;
  }
  const appraisal = await appraisalOf(e.verdict, j.manifest);
  try {
    const { payload, protectedHeader } = await jwtVerify(
      j.answer.ear,
      createLocalJWKSet(jwks.body as unknown as JSONWebKeySet),
      { algorithms: ['ES256'] },
    );
    const { status, problems } = checkEarClaims(payload as Record<string, unknown>, {
      nonceHex: j.nonceHex,
      manifestDigest: j.digest,
      appraisal,
    });
    if (problems.length === 0) {
      r.ok(
        `the gateway's EAR is signed by its key ${protectedHeader.kid} and says "${status}" — what we found ourselves`,
      );
    } else {
      for (const p of problems) r.fail(`the gateway's EAR: ${p}`);
    }
  } catch (err) {
    r.fail(`the gateway's EAR does not verify against its JWKS (${(err as Error).message})`);
  }
}

/** 5. The manifest history: its hash chain holds and its newest entry is the manifest judged by. */
async function checkHistory(r: Report, o: RunOptions, digest: string): Promise<void> {
  const history = await getJson(o.fetchFn, `${o.base}/v1/manifest`);
  const entries = history.body?.history as ManifestLogEntry[] | undefined;
  if (history.status !== 200 || !Array.isArray(entries)) {
    r.fail(`no manifest history (HTTP ${history.status})`);
    return;
  }
  const chain = await verifyManifestLog(entries);
  if (!chain.ok) {
    r.fail(`the manifest history is broken at entry ${chain.seq}: ${chain.reason}`);
    return;
  }
  const newest = entries.at(-1)?.manifestDigest;
  r.check(
    newest === digest,
    `manifest history: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, hash chain intact, newest is this manifest`,
    `manifest history: the newest entry (${newest ?? 'none'}) is not this manifest`,
  );
}
