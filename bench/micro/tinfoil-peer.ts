/**
 * The peer (issue #18 target 6): @tinfoilsh/verifier 1.1.0 (a devDependency used only here) and our
 * verifier on the same real Genoa report in this same Node process. Theirs is run as its own
 * `verifySevReport` runs it (attestation.js), minus base64 and gunzip of their wire format: parse
 * the report, `CertificateChain.fromReport` (their built-in Genoa ARK and ASK, our VCEK), chain and
 * report signature (`verifyAttestation`), then `validateReport`. Their package exports none of these
 * (its `exports` map names only the index), so the modules are loaded by file URL.
 *
 * They verify only Genoa VCEK reports and require TSME; the genoa-v3-azure set has TSME off
 * (platform_info 0x24), so their `defaultValidationOptions.platformInfo.tsmeEnabled` is relaxed
 * (to false, on a copy) for this set — nothing else of their policy changes. They keep no chain
 * cache (ARK and ASK are parsed and both signatures checked on every call), so their one figure is
 * the baseline of both `snp.verify.cold` and `snp.verify.chainCached`. The cases are timed in
 * interleaved rounds (`measureInterleaved`), so that ours and theirs see the same machine load.
 *
 * Beside them, in the same rounds, the floors of our cached cases, on the same bytes and keys, as
 * node:crypto makes them: `snp.genoa.verify.floor`, the one signature check `chainCached` cannot
 * skip (the report's), and `snp.genoa.verify.newVcekFloor`, the two of `newVcek` (and the VCEK's). A floor
 * measured at another point of the run does not see the same load or process state (in one full
 * run the separate floor was 1.16 ms against a chain-cached 1.80 ms, and half a millisecond looked
 * unexplained); in the same rounds the difference is what our code adds.
 */
import { constants, createPublicKey, verify } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromBase64 } from '../../src/bytes.js';
import { OFFSET, SIGNED_REGION_END, SIZE } from '../../src/evidence/snp/layout.js';
import { reportSignatureP1363 } from '../../src/evidence/snp/signature.js';
import { nodeSignatures } from '../../src/platform/node-signature-backend.js';
import { AMD_PSS_SALT_LENGTH, parseCertificate, splitCertChain } from '../../src/verify/certificates.js';
import { type MicroCase, type Sample, type SnpVector, snpCases } from './cases.js';

interface TinfoilModules {
  Report: new (bytes: Uint8Array) => unknown;
  CertificateChain: { fromReport(report: unknown, vcekDer: Uint8Array): Promise<unknown> };
  verifyAttestation(chain: unknown, report: unknown): Promise<boolean>;
  validateReport(report: unknown, chain: unknown, options: unknown): void;
  defaultValidationOptions: { platformInfo?: Record<string, boolean> } & Record<string, unknown>;
}

async function loadTinfoil(root: string): Promise<TinfoilModules> {
  const dist = pathToFileURL(join(root, 'node_modules/@tinfoilsh/verifier/dist/'));
  const mod = (p: string) => import(new URL(p, dist).href);
  const [report, chain, verify, validation] = await Promise.all([
    mod('sev/report.js'),
    mod('sev/cert-chain.js'),
    mod('sev/verify.js'),
    mod('sev/validation.js'),
  ]);
  return { ...report, ...chain, ...verify, ...validation } as TinfoilModules;
}

/** PEM → DER (one certificate). */
function pemToDer(pem: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(pem);
  const body = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return fromBase64(body);
}

/**
 * `snp.genoa.verify.cold` / `snp.genoa.verify.chainCached` (ours, the same cases as the Milan set)
 * and `tinfoil.snp.verify` (theirs) on `v`, a Genoa VCEK set.
 */
export async function tinfoilCases(root: string, v: SnpVector): Promise<MicroCase[]> {
  const t = await loadTinfoil(root);
  const options = {
    ...t.defaultValidationOptions,
    platformInfo: { ...t.defaultValidationOptions.platformInfo, tsmeEnabled: false },
  };
  const reportBytes = fromBase64(v.report);
  const leaf = fromBase64(v.leaf);
  const vcekDer = leaf[0] === 0x30 ? leaf : pemToDer(leaf);
  const theirs = async () => {
    const report = new t.Report(reportBytes);
    const chain = await t.CertificateChain.fromReport(report, vcekDer);
    if (!(await t.verifyAttestation(chain, report))) throw new Error('tinfoil: does not verify');
    t.validateReport(report, chain, options);
  };
  await theirs(); // throws if their verifier refuses the set: then no figure, not a wrong one
  const ours = (await snpCases(v, nodeSignatures)).filter(
    (c) =>
      c.name === 'snp.verify.cold' || c.name === 'snp.verify.chainCached' || c.name === 'snp.verify.newVcek',
  );
  return [
    ...ours.map((c) => ({ ...c, name: c.name.replace('snp.', 'snp.genoa.') })),
    ...(await cachedFloors(v)),
    {
      name: 'tinfoil.snp.verify',
      what: `@tinfoilsh/verifier 1.1.0 on ${v.name}: parse the report, their built-in Genoa ARK and ASK and our VCEK, chain (RSA-PSS ×2), report signature (ECDSA P-384), validateReport (TSME relaxed); rounds interleaved with ours`,
      bytes: 0,
      run: theirs,
    },
  ];
}

/**
 * The signature checks the cached cases cannot skip, on the same bytes, with node:crypto as
 * src/platform/node-signature-backend.ts calls it, keys made once: `snp.genoa.verify.floor`, the
 * report's ECDSA P-384/SHA-384 signature under the VCEK (`chainCached`); and
 * `snp.genoa.verify.newVcekFloor`, that and the VCEK's RSASSA-PSS-SHA384 (salt 48) signature under
 * the ASK (`newVcek`). Throws at set-up when either does not verify.
 */
async function cachedFloors(v: SnpVector): Promise<MicroCase[]> {
  const report = fromBase64(v.report);
  const vcek = await parseCertificate(fromBase64(v.leaf), nodeSignatures);
  const ask = await parseCertificate(splitCertChain([fromBase64(v.chain)]).intermediate, nodeSignatures);
  const spki = (c: { spki: Uint8Array }) =>
    createPublicKey({ key: Buffer.from(c.spki), format: 'der', type: 'spki' });
  const vcekKey = { key: spki(vcek), dsaEncoding: 'ieee-p1363' as const };
  const askKey = {
    key: spki(ask),
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: AMD_PSS_SALT_LENGTH,
  };
  const field = (at: number) => report.subarray(at, at + SIZE.SIGNATURE_COMPONENT);
  const p1363 = reportSignatureP1363({ rLe: field(OFFSET.SIGNATURE_R), sLe: field(OFFSET.SIGNATURE_S) });
  const signed = report.subarray(0, SIGNED_REGION_END);
  const reportSignature = async () => {
    if (p1363 === null || !verify('sha384', signed, vcekKey, p1363)) throw new Error('floor: report');
  };
  const bothSignatures = async () => {
    await reportSignature();
    if (!verify('sha384', vcek.tbs, askKey, vcek.signature)) throw new Error('floor: VCEK');
  };
  await bothSignatures();
  return [
    {
      name: 'snp.genoa.verify.floor',
      what: `the signature check of snp.genoa.verify.chainCached alone on ${v.name} (ECDSA P-384 report signature under the VCEK; node:crypto, key made once), rounds interleaved with the cases it is the floor of`,
      bytes: 0,
      run: reportSignature,
    },
    {
      name: 'snp.genoa.verify.newVcekFloor',
      what: `the signature checks of snp.genoa.verify.newVcek alone on ${v.name} (ECDSA P-384 report signature under the VCEK, RSA-4096 PSS VCEK signature under the ASK; node:crypto, keys made once), rounds interleaved with the cases it is the floor of`,
      bytes: 0,
      run: bothSignatures,
    },
  ];
}

/** A peer-comparison sample: wall time as `Sample`, and CPU time beside it. */
export interface PeerSample extends Sample {
  /**
   * CPU ms per call, median round: `process.cpuUsage`, every thread of the process, so libuv's
   * thread pool too (their WebCrypto calls, our P-384 report signature) — the work, whatever overlaps.
   */
  cpuMsPerOp: number;
}

const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Times `cases` in `rounds` rounds, each a batch of `batch` calls of every case in turn (after a
 * warm-up), as bench/micro/tdx-vs-dcap-qvl.ts does: on a shared machine a load spike then falls on
 * all of them rather than on whichever case was running. Per case: the median round, and the fastest.
 */
export async function measureInterleaved(
  cases: readonly MicroCase[],
  rounds = Number(process.env.BENCH_TINFOIL_ROUNDS ?? 31),
  batch = 20,
): Promise<PeerSample[]> {
  for (const c of cases) for (let i = 0; i < 20; i++) await c.run();
  const wall = cases.map(() => [] as number[]);
  const cpu = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of cases.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let k = 0; k < batch; k++) await c.run();
      wall[i]!.push((performance.now() - t0) / batch);
      const used = process.cpuUsage(c0);
      cpu[i]!.push((used.user + used.system) / 1000 / batch);
    }
  }
  return cases.map((c, i) => ({
    name: c.name,
    msPerOp: median(wall[i]!),
    minMsPerOp: Math.min(...wall[i]!),
    cpuMsPerOp: median(cpu[i]!),
    samples: rounds,
    iterationsPerSample: batch,
  }));
}

/**
 * The CPU side of the comparison (`snp.verify.{cold,chainCached,newVcek}.cpu.vsTinfoil`, baseline
 * theirs): their WebCrypto work runs on the thread pool, so the wall figures let it overlap; these
 * count the work. Nothing when a side is missing (a filtered run).
 */
export function tinfoilCpuPairs(
  samples: readonly PeerSample[],
): { name: string; ours: PeerSample; theirs: PeerSample }[] {
  const of = (n: string) => samples.find((s) => s.name === n);
  const theirs = of('tinfoil.snp.verify');
  if (!theirs) return [];
  return (['cold', 'chainCached', 'newVcek'] as const).flatMap((k) => {
    const ours = of(`snp.genoa.verify.${k}`);
    return ours ? [{ name: `snp.verify.${k}.cpu.vsTinfoil`, ours, theirs }] : [];
  });
}
