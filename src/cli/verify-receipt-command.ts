/**
 * `sealgate verify-receipt FILE | ID --url URL [--api-key KEY] [--manifest FILE] [--json]`: checks a
 * receipt bundle offline (src/receipts/verify-receipt.ts) — a bundle file; a kept receipt file (the
 * `x-sealgate-receipt-data` header of an answer, or a stream's `: sealgate-receipt` line) with
 * `--url`, which fetches the service evidence it names by digest (`GET /v1/receipt-evidence/{sha256}`);
 * or, from a gateway that stores receipts, a receipt id (the `x-sealgate-receipt` header) fetched
 * from `GET /v1/receipts/{id}` — and prints
 * the chain in plain words: receipt → worker certificate → the service's signing key → the
 * service's hardware evidence → the manifest. Only the fetch trusts the gateway, and only to hand
 * over bytes: every link is checked here. `--manifest FILE` or `--manifest-digest HEX` pins the
 * manifest you trust; without either the copy inside the bundle is checked for consistency only,
 * which anyone can satisfy with a bundle of their own (a simulator, any SEV-SNP VM running their
 * image): that is reported as NOT PINNED with the digest to pin, never as VERIFIED.
 *
 * Exit 0 when every step holds against a pinned manifest (and, on SIMULATED hardware, only with
 * `--allow-simulated`); 1 when any fails (or the receipt cannot be had, or it is simulated without
 * `--allow-simulated`); 2 usage; 3 every step holds but nothing was pinned. The API key may also
 * come from SEALGATE_API_KEY.
 */

import { existsSync } from 'node:fs';
import { nodeSignatures } from '../platform/node-signature-backend.js';
import {
  isKeptReceiptText,
  type KeptReceipt,
  parseKeptReceipt,
  toReceiptBundle,
} from '../receipts/kept-receipt.js';
import { type ReceiptVerdict, verifyReceiptBundle } from '../receipts/verify-receipt.js';
import { answerText } from './answer-text.js';
import { parseFlags, UsageError } from './args.js';
import { gatewayBaseUrl } from './gateway-url.js';
import { readTextInput } from './io.js';
import { cliKds } from './kds-fetch.js';
import { printable } from './printable.js';
import type { CommandResult } from './result.js';

export const VERIFY_RECEIPT_USAGE =
  'verify-receipt BUNDLE | KEPT --url URL | ID --url URL [--api-key KEY] [--manifest FILE | --manifest-digest HEX] [--allow-simulated] [--json]';

const STEP_TITLES: Record<string, string> = {
  receipt: 'receipt',
  signature: 'receipt → worker certificate',
  certificate: 'worker certificate → service signing key',
  service: 'service signing key → hardware evidence',
  manifest: 'hardware evidence → manifest',
};

export async function verifyReceiptCommand(argv: readonly string[]): Promise<CommandResult> {
  const flags = parseFlags(argv, {
    values: ['url', 'api-key', 'manifest', 'manifest-digest'],
    switches: ['json', 'allow-simulated'],
    positionals: 1,
  });
  const target = flags.positionals[0]!;
  const url = flags.values.url === undefined ? undefined : gatewayBaseUrl(flags.values.url, '--url');
  const apiKey = flags.values['api-key'] ?? process.env.SEALGATE_API_KEY;
  if (!url && flags.values['api-key']) throw new UsageError('--api-key needs --url');
  const pinnedDigest = flags.values['manifest-digest']?.toLowerCase();
  if (pinnedDigest !== undefined && !/^[0-9a-f]{64}$/.test(pinnedDigest)) {
    throw new UsageError('--manifest-digest must be 64 hex characters (SHA-256)');
  }
  if (pinnedDigest !== undefined && flags.values.manifest) {
    throw new UsageError('--manifest and --manifest-digest: give one');
  }
  const manifestText = flags.values.manifest
    ? await readTextInput('manifest', flags.values.manifest)
    : undefined;

  let bundle: unknown;
  const fromFile = !url || existsSync(target);
  const text = fromFile ? await readTextInput('receipt', target) : undefined;
  if (text !== undefined && isKeptReceiptText(text)) {
    // A kept receipt (the answer's header, or a stream's comment line) names its evidence by digest.
    if (!url)
      throw new UsageError('a kept receipt names its service evidence by digest: give --url to fetch it');
    const got = await keptBundle(text, url, apiKey);
    if (!got.ok) return failed(got.message);
    bundle = got.bundle;
  } else if (text !== undefined) {
    bundle = text;
  } else {
    const got = await fetchBundle(url!, target, apiKey);
    if (!got.ok) return failed(got.message);
    bundle = got.bundle;
  }

  const verdict = await verifyReceiptBundle({
    bundle,
    ...(manifestText !== undefined ? { manifestText } : {}),
    kds: cliKds(),
    signatures: nodeSignatures,
  });
  const outcome = judge(verdict, pinnedDigest, flags.switches.has('allow-simulated'));
  if (flags.switches.has('json')) {
    return {
      stdout: `${JSON.stringify({ ...verdict, outcome: outcome.name }, null, 2)}\n`,
      exitCode: outcome.exitCode,
    };
  }
  return { stdout: describe(verdict, outcome), exitCode: outcome.exitCode };
}

export interface Outcome {
  name: 'verified' | 'rejected' | 'not-pinned' | 'simulated';
  exitCode: 0 | 1 | 3;
}

/**
 * The verdict against what the user pinned: a bundle is only VERIFIED against a manifest given
 * by file or digest; simulated hardware is a pass only when asked for.
 */
export function judge(v: ReceiptVerdict, pinnedDigest: string | undefined, allowSimulated: boolean): Outcome {
  if (v.verdict !== 'verified') return { name: 'rejected', exitCode: 1 };
  if (pinnedDigest !== undefined && v.manifestDigest !== pinnedDigest)
    return { name: 'rejected', exitCode: 1 };
  if (v.simulated && !allowSimulated) return { name: 'simulated', exitCode: 1 };
  if (!v.ownManifest && pinnedDigest === undefined) return { name: 'not-pinned', exitCode: 3 };
  return { name: 'verified', exitCode: 0 };
}

type Got = { ok: true; bundle: unknown } | { ok: false; message: string };

/** GET from the gateway; a 404 is asked again twice (`retry404`: a stored receipt may trail its answer). */
async function getJson(where: string, apiKey: string | undefined, retry404: boolean): Promise<Got> {
  let res: Response | undefined;
  let body = '';
  for (const pause of retry404 ? [0, 300, 1_000] : [0]) {
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    try {
      res = await fetch(where, {
        headers: { accept: 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        signal: AbortSignal.timeout(30_000),
      });
      body = await answerText(res, where);
    } catch (e) {
      return { ok: false, message: `cannot fetch ${where}: ${(e as Error).message}` };
    }
    if (res.status !== 404) break;
  }
  if (!res) return { ok: false, message: `cannot fetch ${where}` };
  if (!res.ok) return { ok: false, message: `${where} answered ${res.status}: ${body.slice(0, 300)}` };
  return { ok: true, bundle: body };
}

/** A stored bundle by receipt id (`GET /v1/receipts/{id}`, gateways with RECEIPT_STORAGE=kv). */
function fetchBundle(url: string, id: string, apiKey: string | undefined): Promise<Got> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id)) {
    throw new UsageError(
      'with --url, the argument is a kept receipt file or a receipt id (the x-sealgate-receipt header)',
    );
  }
  // The gateway stores a receipt just after its answer (waitUntil, docs/gateway.md): a 404 right
  // after the answer may mean "not written yet".
  return getJson(`${url}/v1/receipts/${encodeURIComponent(id)}`, apiKey, true);
}

/**
 * The bundle of a kept receipt: its service evidence fetched by digest and joined to it only if the
 * evidence's SHA-256 is the one the receipt names (the gateway is trusted for bytes, not content).
 */
async function keptBundle(text: string, url: string, apiKey: string | undefined): Promise<Got> {
  let kept: KeptReceipt;
  try {
    kept = parseKeptReceipt(text);
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
  const where = `${url}/v1/receipt-evidence/${kept.serviceEvidenceSha256}`;
  const got = await getJson(where, apiKey, false);
  if (!got.ok) return got;
  try {
    return { ok: true, bundle: await toReceiptBundle(kept, JSON.parse(got.bundle as string)) };
  } catch (e) {
    return { ok: false, message: `${where}: ${(e as Error).message}` };
  }
}

function failed(message: string): CommandResult {
  return { stdout: '', stderr: `sealgate: verify-receipt: ${printable(message)}\n`, exitCode: 1 };
}

/** The chain in plain words, one line per link, then the verdict. */
export function describe(v: ReceiptVerdict, outcome: Outcome): string {
  const mark = { ok: 'ok ', failed: 'FAIL', 'not checked': ' -  ' } as const;
  const lines = v.steps.map((s) => `[${mark[s.status]}] ${STEP_TITLES[s.step]}: ${printable(s.message)}`);
  if (outcome.name === 'not-pinned') {
    lines.push(
      '',
      `NOT PINNED: the bundle is consistent with its own manifest ${v.manifestDigest}, which anyone can make.`,
      `Pin the manifest you trust: --manifest FILE, or --manifest-digest ${v.manifestDigest}.`,
    );
  } else if (outcome.name === 'simulated') {
    lines.push(
      '',
      'NOT VERIFIED: the evidence is from SIMULATED hardware (pass --allow-simulated to accept it for development).',
    );
  } else if (outcome.name === 'verified') {
    lines.push(
      '',
      `VERIFIED: the answer to request ${v.claims!.id} came from an AI worker attested under manifest ${v.manifestDigest} (pinned).`,
    );
    if (v.simulated) {
      lines.push('WARNING: SIMULATED hardware — this proves nothing about real confidentiality.');
    }
  } else {
    lines.push('', 'NOT VERIFIED: do not rely on this answer’s receipt.');
    if (v.verdict === 'verified')
      lines.push(`The bundle's manifest ${v.manifestDigest} is not the one pinned.`);
  }
  return `${lines.join('\n')}\n`;
}
