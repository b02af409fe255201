/**
 * `npx tsx bench/tdx/verify-vs-dcap-qvl.ts`: the phala-v4 TDX quote verified with Sealgate's
 * verifier (`verifyTdxEvidence`: quote, PCK chain, collateral, authenticated CRLs, TCB status) and
 * with `@phala/dcap-qvl` 0.3.9 (a devDependency used only here), side by side in one Node process,
 * rounds interleaved so that both see the same machine load. Prints the median per call of each
 * and the ratio. Nothing here asserts a speed. Needs SEALGATE_TESTDATA (default ../shared/testdata).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verify as dcapVerify } from '@phala/dcap-qvl';
import { parseCollateralJson } from '../../src/verify/tdx/collateral.js';
import { verifyTdxEvidence } from '../../src/verify/tdx/verify-tdx.js';

const root = join(import.meta.dirname, '../..');
const dir = resolve(root, process.env.SEALGATE_TESTDATA ?? '../shared/testdata', 'tdx/phala-v4-uptodate');
const quote = new Uint8Array(readFileSync(join(dir, 'quote.bin')));
const collateralText = readFileSync(join(dir, 'collateral.json'), 'utf8');
const collateral = parseCollateralJson(collateralText);
const peerCollateral = JSON.parse(collateralText);
const now = new Date('2025-06-20T00:00:00Z');
const nowSecs = Math.floor(now.getTime() / 1000);

async function ours(): Promise<void> {
  const r = await verifyTdxEvidence({ quote, collateral, now });
  if (r.claims?.tcb.status !== 'UpToDate') throw new Error('sealgate: not UpToDate');
}

async function peer(): Promise<void> {
  const r = await dcapVerify(quote, peerCollateral, nowSecs);
  if (r.status !== 'UpToDate') throw new Error(`dcap-qvl: ${r.status}`);
}

async function timeOnce(f: () => Promise<void>, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t0) / n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (let i = 0; i < 10; i++) {
  await ours();
  await peer();
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < rounds; i++) {
  a.push(await timeOnce(ours, 5));
  b.push(await timeOnce(peer, 5));
}
const [sa, sb] = [median(a), median(b)];
process.stdout.write(
  `tdx.verify phala-v4 (Node ${process.version}): sealgate ${sa.toFixed(2)} ms, @phala/dcap-qvl 0.3.9 ${sb.toFixed(2)} ms, ratio ${(sa / sb).toFixed(2)}\n`,
);
