/**
 * `sealgate verify-receipt FILE | ID --url URL [--api-key KEY] [--manifest FILE] [--json]`: checks a
 * receipt bundle offline (src/receipts/verify-receipt.ts) — from a file, or fetched by its id (the
 * `x-sealgate-receipt` header of an answer) from the gateway's `GET /v1/receipts/{id}` — and prints
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
import { type ReceiptVerdict, verifyReceiptBundle } from '../receipts/verify-receipt.js';
import { parseFlags, UsageError } from './args.js';
import { readTextInput } from './io.js';
import { cliKds } from './kds-fetch.js';
import type { CommandResult } from './result.js';

export const VERIFY_RECEIPT_USAGE =
  'verify-receipt FILE | ID --url URL [--api-key KEY] [--manifest FILE | --manifest-digest HEX] [--allow-simulated] [--json]';

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
  const url = flags.values.url;
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

  let bundle: string;
  if (url) {
    if (!/^https?:\/\//.test(url)) throw new UsageError('--url must be an http(s) URL');
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(target)) {
      throw new UsageError('with --url, the argument is a receipt id (the x-sealgate-receipt header)');
    }
    const where = `${url.replace(/\/+$/, '')}/v1/receipts/${encodeURIComponent(target)}`;
    let res: Response | undefined;
    bundle = '';
    // The gateway stores a receipt just after its answer (waitUntil, docs/gateway.md): a 404 right
    // after the answer may mean "not written yet", so it is asked again twice before giving up.
    for (const pause of [0, 300, 1_000]) {
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      try {
        res = await fetch(where, {
          headers: { accept: 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
          signal: AbortSignal.timeout(30_000),
        });
      } catch (e) {
        return failed(`cannot fetch ${where}: ${(e as Error).message}`);
      }
      bundle = await res.text();
      if (res.status !== 404) break;
    }
    if (!res) return failed(`cannot fetch ${where}`);
    if (!res.ok) return failed(`${where} answered ${res.status}: ${bundle.slice(0, 300)}`);
  } else {
    bundle = await readTextInput('receipt', target);
  }

  const verdict = await verifyReceiptBundle({
    bundle,
    ...(manifestText !== undefined ? { manifestText } : {}),
    kds: cliKds(),
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

function failed(message: string): CommandResult {
  return { stdout: '', stderr: `sealgate: verify-receipt: ${message}\n`, exitCode: 1 };
}

/** The chain in plain words, one line per link, then the verdict. */
export function describe(v: ReceiptVerdict, outcome: Outcome): string {
  const mark = { ok: 'ok ', failed: 'FAIL', 'not checked': ' -  ' } as const;
  const lines = v.steps.map((s) => `[${mark[s.status]}] ${STEP_TITLES[s.step]}: ${s.message}`);
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
