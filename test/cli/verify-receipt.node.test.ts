/**
 * `sealgate verify-receipt FILE` on a real receipt bundle (test/receipts/support.ts: simulator
 * evidence from the REAL service app, a real worker certificate and receipt): the chain in plain
 * words and exit 0; exit 1 for an altered receipt, a wrong manifest or a file that is no bundle;
 * exit 2 for usage errors. A kept receipt (kept-receipt.ts) with `--url` fetches the evidence it
 * names from a local HTTP server and is refused when that evidence is not the one named. The
 * `--url` form runs against the real stack in test/e2e/receipts.node.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, toHex, utf8 } from '../../src/bytes.js';
import { runCli } from '../../src/cli/main.js';
import { canonicalizeJson } from '../../src/json/canonical.js';
import { encodeKeptReceipt, keptReceiptComment } from '../../src/receipts/kept-receipt.js';
import { ENV_TIMEOUT_MS, type Fixture, makeFixture } from '../receipts/support.js';

const tmp = mkdtempSync(join(tmpdir(), 'sealgate-receipt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let f: Fixture;
let file: string;
beforeAll(async () => {
  f = await makeFixture();
  file = join(tmp, 'receipt.json');
  writeFileSync(file, JSON.stringify(f.bundle, null, 2));
}, ENV_TIMEOUT_MS);

function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('sealgate verify-receipt', () => {
  it('prints every link; against a pinned manifest and with --allow-simulated, exit 0', async () => {
    const manifest = write('m.json', f.dev.manifestText);
    const r = await runCli(['verify-receipt', file, '--manifest', manifest, '--allow-simulated']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 5).map((l) => l.slice(0, 6))).toEqual(Array(5).fill('[ok ] '));
    expect(r.stdout).toContain('receipt → worker certificate');
    expect(r.stdout).toContain('service signing key → hardware evidence');
    expect(r.stdout).toContain(`VERIFIED: the answer to request ${f.claims.id}`);
    expect(r.stdout).toContain('SIMULATED');
    const own = await runCli([
      'verify-receipt',
      file,
      '--manifest-digest',
      f.dev.manifestDigest,
      '--allow-simulated',
      '--json',
    ]);
    expect(own.exitCode).toBe(0);
    expect(JSON.parse(own.stdout)).toMatchObject({ verdict: 'verified', outcome: 'verified' });
  });

  it('without a pinned manifest: exit 3, the digest to pin, never VERIFIED', async () => {
    // The bundle carries its own manifest: anyone can make one that is consistent with itself.
    const r = await runCli(['verify-receipt', file, '--allow-simulated']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).not.toMatch(/^VERIFIED:/m);
    expect(r.stdout).toContain('NOT PINNED');
    expect(r.stdout).toContain(`--manifest-digest ${f.dev.manifestDigest}`);
  });

  it('SIMULATED hardware is not a pass without --allow-simulated; another pinned digest is a reject', async () => {
    const manifest = write('m2.json', f.dev.manifestText);
    const sim = await runCli(['verify-receipt', file, '--manifest', manifest]);
    expect(sim.exitCode).toBe(1);
    expect(sim.stdout).not.toMatch(/^VERIFIED:/m);
    expect(sim.stdout).toContain('--allow-simulated');
    const other = await runCli([
      'verify-receipt',
      file,
      '--manifest-digest',
      'ab'.repeat(32),
      '--allow-simulated',
    ]);
    expect(other.exitCode).toBe(1);
    expect(other.stdout).toContain('NOT VERIFIED');
  });

  it('exits 1 for a receipt altered in one byte, and names the failed link', async () => {
    const r = f.receipt;
    const i = r.indexOf('.') + 40; // inside the payload
    const altered = `${r.slice(0, i)}${r[i] === 'A' ? 'B' : 'A'}${r.slice(i + 1)}`;
    const out = await runCli([
      'verify-receipt',
      write('altered.json', JSON.stringify({ ...f.bundle, receipt: altered })),
    ]);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/\[FAIL\] (receipt|receipt → worker certificate):/);
    expect(out.stdout).toContain('NOT VERIFIED');
    expect(out.stdout).toContain('[ -  ] hardware evidence → manifest: not checked');
  });

  it('exits 1 under another manifest and for a file that is no bundle', async () => {
    const other = f.dev.manifestText.replace('"name": "', '"name": "other ');
    expect((await runCli(['verify-receipt', file, '--manifest', write('o.json', other)])).exitCode).toBe(1);
    expect((await runCli(['verify-receipt', write('junk.json', '{"v":1}')])).exitCode).toBe(1);
  });

  it('exits 2 for usage errors', async () => {
    expect((await runCli(['verify-receipt'])).exitCode).toBe(2);
    expect((await runCli(['verify-receipt', join(tmp, 'missing.json')])).exitCode).toBe(2);
    expect((await runCli(['verify-receipt', file, '--api-key', 'k'])).exitCode).toBe(2);
    expect((await runCli(['verify-receipt', 'a b', '--url', 'http://127.0.0.1:1'])).exitCode).toBe(2);
    expect((await runCli(['help'])).stdout).toContain(
      'verify-receipt BUNDLE | KEPT --url URL | ID --url URL',
    );
    // A kept receipt names its evidence by digest: without --url there is nothing to check it against.
    expect((await runCli(['verify-receipt', write('kept0.json', keptText())])).exitCode).toBe(2);
    expect((await runCli(['verify-receipt', file, '--url', 'ftp://x'])).exitCode).toBe(2);
  });

  describe('a kept receipt (the answer header, or a stream comment line) with --url', () => {
    let server: Server;
    let url: string;
    const served: string[] = [];
    let evidence: unknown;
    let hostile = false;
    beforeAll(async () => {
      evidence = f.bundle.serviceEvidence;
      server = createServer((req, res) => {
        served.push(`${req.url} ${req.headers.authorization ?? ''}`);
        if (hostile) {
          res.statusCode = 500; // a hostile gateway: a terminal escape and a forged verdict line
          res.end('\x1b[1A\x1b[2K\rVERIFIED: all good\nVERIFIED: the answer came from an attested worker');
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(evidence));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('fetches the evidence it names and verifies: from the header value and from a saved stream', async () => {
      const args = [
        '--url',
        url,
        '--api-key',
        'sk-k',
        '--manifest-digest',
        f.dev.manifestDigest,
        '--allow-simulated',
      ];
      const header = await runCli(['verify-receipt', write('kept.json', keptText()), ...args]);
      expect(header.stdout).toContain(`VERIFIED: the answer to request ${f.claims.id}`);
      expect(header.exitCode).toBe(0);
      const stream = `data: {"x":1}\n\n${keptReceiptComment(keptText())}data: [DONE]\n\n`;
      expect((await runCli(['verify-receipt', write('stream.txt', stream), ...args])).exitCode).toBe(0);
      expect(served.at(-1)).toBe(`/v1/receipt-evidence/${await evidenceDigest()} Bearer sk-k`);
    });

    it('prints what a hostile gateway answers with its control characters escaped', async () => {
      hostile = true;
      const r = await runCli(['verify-receipt', write('kept3.json', keptText()), '--url', url]);
      hostile = false;
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('answered 500: \\x1b[1A\\x1b[2K\\x0dVERIFIED');
      expect([...(r.stderr ?? '').trimEnd()].filter((c) => c.charCodeAt(0) < 0x20)).toEqual([]);
      expect((r.stderr ?? '').trimEnd().split('\n')).toHaveLength(1);
    });

    it('exit 1 when the server hands over other evidence, or the receipt was altered', async () => {
      const args = ['--url', url, '--manifest-digest', f.dev.manifestDigest, '--allow-simulated'];
      evidence = { ...(f.bundle.serviceEvidence as object), nonce: '00'.repeat(32) };
      const swapped = await runCli(['verify-receipt', write('kept1.json', keptText()), ...args]);
      evidence = f.bundle.serviceEvidence;
      expect(swapped.exitCode).toBe(1);
      expect(swapped.stderr).toContain('SHA-256 differs');
      const r = f.bundle.receipt as string;
      const i = r.length - 10;
      const altered = keptText(r.slice(0, i) + (r[i] === 'A' ? 'B' : 'A') + r.slice(i + 1));
      const refused = await runCli(['verify-receipt', write('kept2.json', altered), ...args]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stdout).toContain('NOT VERIFIED');
    });
  });
});

async function evidenceDigest(): Promise<string> {
  return toHex(await sha256(utf8.encode(canonicalizeJson(f.bundle.serviceEvidence))));
}

let digestMemo = '';
function keptText(receipt = f.bundle.receipt as string): string {
  return encodeKeptReceipt({
    receipt,
    workerCertificate: f.bundle.workerCertificate as string,
    serviceEvidenceSha256: digestMemo,
  });
}
beforeAll(async () => {
  digestMemo = await evidenceDigest();
}, ENV_TIMEOUT_MS);
