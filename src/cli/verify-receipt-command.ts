/**
 * `sealgate verify-receipt FILE | ID --url URL [--api-key KEY] [--manifest FILE] [--json]`: checks a
 * receipt bundle offline (src/receipts/verify-receipt.ts) — from a file, or fetched by its id (the
 * `x-sealgate-receipt` header of an answer) from the gateway's `GET /v1/receipts/{id}` — and prints
 * the chain in plain words: receipt → worker certificate → the service's signing key → the
 * service's hardware evidence → the manifest. Only the fetch trusts the gateway, and only to hand
 * over bytes: every link is checked here. `--manifest` pins the manifest you trust; without it the
 * copy inside the bundle is used, and its digest is printed for you to compare.
 *
 * Exit 0 only when every step holds; 1 when any fails (or the receipt cannot be had); 2 usage.
 * The API key may also come from SEALGATE_API_KEY.
 */
import { type ReceiptVerdict, verifyReceiptBundle } from '../receipts/verify-receipt.js';
import { parseFlags, UsageError } from './args.js';
import { readTextInput } from './io.js';
import { cliKds } from './kds-fetch.js';
import type { CommandResult } from './result.js';

export const VERIFY_RECEIPT_USAGE =
  'verify-receipt FILE | ID --url URL [--api-key KEY] [--manifest FILE] [--json]';

const STEP_TITLES: Record<string, string> = {
  receipt: 'receipt',
  signature: 'receipt → worker certificate',
  certificate: 'worker certificate → service signing key',
  service: 'service signing key → hardware evidence',
  manifest: 'hardware evidence → manifest',
};

export async function verifyReceiptCommand(argv: readonly string[]): Promise<CommandResult> {
  const flags = parseFlags(argv, {
    values: ['url', 'api-key', 'manifest'],
    switches: ['json'],
    positionals: 1,
  });
  const target = flags.positionals[0]!;
  const url = flags.values.url;
  const apiKey = flags.values['api-key'] ?? process.env.SEALGATE_API_KEY;
  if (!url && flags.values['api-key']) throw new UsageError('--api-key needs --url');
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
  const exitCode = verdict.verdict === 'verified' ? 0 : 1;
  if (flags.switches.has('json')) return { stdout: `${JSON.stringify(verdict, null, 2)}\n`, exitCode };
  return { stdout: describe(verdict), exitCode };
}

function failed(message: string): CommandResult {
  return { stdout: '', stderr: `sealgate: verify-receipt: ${message}\n`, exitCode: 1 };
}

/** The chain in plain words, one line per link, then the verdict. */
export function describe(v: ReceiptVerdict): string {
  const mark = { ok: 'ok ', failed: 'FAIL', 'not checked': ' -  ' } as const;
  const lines = v.steps.map((s) => `[${mark[s.status]}] ${STEP_TITLES[s.step]}: ${s.message}`);
  if (v.verdict === 'verified') {
    lines.push(
      '',
      `VERIFIED: the answer to request ${v.claims!.id} came from an AI worker attested under manifest ${v.manifestDigest}${v.ownManifest ? ' (yours)' : ''}.`,
    );
    if (v.simulated) {
      lines.push('WARNING: SIMULATED hardware — this proves nothing about real confidentiality.');
    }
  } else {
    lines.push('', 'NOT VERIFIED: do not rely on this answer’s receipt.');
  }
  return `${lines.join('\n')}\n`;
}
