/**
 * The micro benchmarks, runtime-neutral (no `node:*`, no `cloudflare:*`): the same cases run inside
 * workerd (bench/workerd/micro-worker.ts) and in Node (bench/micro/node.ts). Each case is set up once
 * (keys, sealed inputs, parsed certificates) and then `run()` does exactly one operation.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { fromBase64 } from '../../src/bytes.js';
import type { EnvelopeCrypto } from '../../src/envelope/envelope-crypto.js';
import { openRequest, sealRequest } from '../../src/envelope/request.js';
import { sealResponse } from '../../src/envelope/response.js';
import { createStreamOpener, createStreamSealer } from '../../src/envelope/stream.js';
import { parseReport } from '../../src/evidence/snp/parse-report.js';
import { createKek } from '../../src/keys/kek.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import { evaluateSnp } from '../../src/policy/evaluate-snp.js';
import type { SnpReferenceValues } from '../../src/policy/manifest-types.js';
import { AMD_ROOTS } from '../../src/verify/amd-roots.js';
import { parseCertificate, splitCertChain } from '../../src/verify/certificates.js';
import { createChainCache } from '../../src/verify/chain-cache.js';
import type { SignatureBackend } from '../../src/verify/signature-backend.js';
import { verifyChain } from '../../src/verify/verify-chain.js';
import { importLeafKey, verifyReportSignature } from '../../src/verify/verify-report-signature.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { floorCases } from './floor-cases.js';
import { type GpuVector, gpuCases } from './gpu-cases.js';
import { receiptCases } from './receipt-cases.js';
import { type TdxVector, tdxCases } from './tdx-cases.js';

/** The real SEV-SNP set the verification cases use (base64, read by the runner from SEALGATE_TESTDATA). */
export interface SnpVector {
  name: string;
  report: string;
  leaf: string;
  chain: string;
  /** ISO time inside every certificate's validity. */
  at: string;
  /** The real NVIDIA GPU set the GPU verification cases use, when present (gpu-cases.ts). */
  gpu?: GpuVector;
}

export interface MicroCase {
  /** e.g. "envelope.sealRequest.4KiB" */
  name: string;
  /** What one operation is. */
  what: string;
  /** Bytes per operation, for throughput figures (0: not a byte-throughput case). */
  bytes: number;
  run(): Promise<unknown>;
}

const KiB = 1024;
const ROUTE = '/v1/chat/completions';
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** A chat body whose prompt makes the JSON body `size` bytes (±1 %). */
export function chatBody(size: number, stream = false): Record<string, unknown> {
  const base = {
    model: 'sealgate-builtin',
    stream,
    max_tokens: 64,
    messages: [{ role: 'user', content: '' }],
  };
  const overhead = JSON.stringify(base).length;
  const words = 'the quick brown fox jumps over the lazy dog ';
  const content = words.repeat(Math.ceil(size / words.length)).slice(0, Math.max(0, size - overhead));
  return { ...base, messages: [{ role: 'user', content }] };
}

let ridCounter = 0;
const nextRid = (): string => `gw-${(++ridCounter).toString(16).padStart(32, '0')}`;

/** The context of a small sealed chat request: what the response and stream cases seal under. */
async function smallRequestContext(kek: Awaited<ReturnType<typeof createKek>>, now: number) {
  return (await sealRequest({ kek, route: ROUTE, requestId: nextRid(), body: chatBody(512), now })).context;
}

async function envelopeCases(): Promise<MicroCase[]> {
  const now = Math.floor(Date.now() / 1000);
  const kek = await createKek({ notBefore: now - 60, notAfter: now + 86_400 });
  const ring = await KeyRing.from([kek]);
  const out: MicroCase[] = [];
  for (const [label, size] of [
    ['4KiB', 4 * KiB],
    ['64KiB', 64 * KiB],
    ['1MiB', 1024 * KiB],
  ] as const) {
    const body = chatBody(size);
    out.push({
      name: `envelope.sealRequest.${label}`,
      what: `sealRequest of a ${label} chat body (fresh DEK, AES-KW wrap, HKDF, AES-GCM, base64url, JSON)`,
      bytes: size,
      run: () => sealRequest({ kek, route: ROUTE, requestId: nextRid(), body, now }),
    });
    // The worker receives JSON text: openRequest includes JSON.parse of the sealed body.
    const sealedText = JSON.stringify(
      (await sealRequest({ kek, route: ROUTE, requestId: nextRid(), body, now })).sealed,
    );
    out.push({
      name: `envelope.openRequest.${label}`,
      what: `openRequest of a sealed ${label} chat body given as JSON text (parse, unwrap, HKDF, AES-GCM, JSON)`,
      bytes: size,
      run: () => openRequest(sealedText, ring, { route: ROUTE, now, maxAgeSeconds: 300 }),
    });
  }
  const context = await smallRequestContext(kek, now);
  for (const [label, size] of [
    ['100B', 100],
    ['1KiB', KiB],
  ] as const) {
    const chunk = JSON.stringify({ choices: [{ delta: { content: 'x'.repeat(size) } }] }).slice(0, size);
    const padded = chunk.length < size ? chunk + ' '.repeat(size - chunk.length) : chunk;
    let sealer = createStreamSealer(context);
    let sealed = 0;
    out.push({
      name: `stream.sealFrame.${label}`,
      what: `seal one SSE chunk of ${label} into a format-3 record (UTF-8 encodeInto, AES-GCM)`,
      bytes: size,
      run: () => {
        // A fresh stream every 4096 frames (the key derivation is amortised as in a long answer).
        if (++sealed % 4096 === 0) sealer = createStreamSealer(context);
        return sealer.seal([padded]);
      },
    });
    const POOL = 2048;
    const s = createStreamSealer(context);
    // One stream's records, in order (the header with the first); each run pushes the next one.
    const records: Uint8Array[] = [];
    for (let i = 0; i < POOL; i++) records.push(await s.seal([padded]));
    let opener = createStreamOpener(context);
    let at = 0;
    const onFrame = () => undefined;
    out.push({
      name: `stream.openFrame.${label}`,
      what: `open one format-3 record of a ${label} SSE chunk (head checks, AES-GCM, event bounds and UTF-8)`,
      bytes: size,
      run: () => {
        if (at === POOL) {
          opener = createStreamOpener(context);
          at = 0;
        }
        return opener.push(records[at++]!, onFrame);
      },
    });
  }
  return out;
}

async function aesCases(): Promise<MicroCase[]> {
  const keyBytes = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await crypto.subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['encrypt']);
  const out: MicroCase[] = [];
  for (const [label, size] of [
    ['4KiB', 4 * KiB],
    ['64KiB', 64 * KiB],
  ] as const) {
    const pt = crypto.getRandomValues(new Uint8Array(size));
    out.push({
      name: `aes-gcm.webcrypto.${label}`,
      what: `AES-256-GCM encrypt of ${label}, WebCrypto (key imported once)`,
      bytes: size,
      run: () => crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, pt),
    });
    out.push({
      name: `aes-gcm.noble.${label}`,
      what: `AES-256-GCM encrypt of ${label}, @noble/ciphers gcm`,
      bytes: size,
      run: async () => gcm(keyBytes, iv).encrypt(pt),
    });
  }
  return out;
}

/** Reference values made from the report's own claims (every rule in play, all satisfied). */
function matchingReference(claims: NonNullable<Awaited<ReturnType<typeof verifySnpEvidence>>['claims']>) {
  const r = claims.report;
  const nonZero = (b: Uint8Array) => b.some((x) => x !== 0);
  const ref: SnpReferenceValues = {
    measurements: [hex(r.measurement)],
    signingKeys: [claims.signingKey],
    policy: {
      allowDebug: r.policy.debug,
      allowMigrationAgent: r.policy.migrateMa,
      allowSmt: r.policy.smt,
      requireSingleSocket: r.policy.singleSocket,
      minAbi: { major: r.policy.abiMajor, minor: r.policy.abiMinor },
    },
    minimumTcb: { [claims.product]: { ...claims.reportedTcb } },
    minimumLaunchTcb: { [claims.product]: { ...claims.launchTcb } },
    vmpl: r.vmpl,
    hostData: hex(r.hostData),
    ...(nonZero(r.idKeyDigest) ? { idKeyDigests: [hex(r.idKeyDigest)] } : {}),
    ...(nonZero(r.chipId) ? { chipIds: [hex(r.chipId)] } : {}),
    minimumGuestSvn: r.guestSvn,
    familyId: hex(r.familyId),
    imageId: hex(r.imageId),
  };
  return ref;
}

/** `signatures`: the signature backend (absent: WebCrypto, as in workerd; Node passes node:crypto). */
export async function snpCases(v: SnpVector, signatures?: SignatureBackend): Promise<MicroCase[]> {
  const p = await prepareSnp(v, signatures);
  return [...snpVerifyCases(p), ...snpColdStageCases(p)];
}

type Cert = Awaited<ReturnType<typeof parseCertificate>>;

/** What the SNP cases share, made once and checked: the vector verifies, or there is nothing to time. */
interface PreparedSnp {
  name: string;
  report: Uint8Array;
  leaf: Uint8Array;
  chain: Uint8Array;
  signatures: SignatureBackend | undefined;
  input: Parameters<typeof verifySnpEvidence>[0] & {
    trustAnchors: { sha256: string; product: string }[];
    now: Date;
  };
  claims: NonNullable<Awaited<ReturnType<typeof verifySnpEvidence>>['claims']>;
  ref: ReturnType<typeof matchingReference>;
  opts: { expectedReportData: Uint8Array };
  /** VCEK, ASK, ARK, parsed. */
  certs: readonly [Cert, Cert, Cert];
  leafKey: Awaited<ReturnType<typeof importLeafKey>>;
  /** Holds AMD's ARK → ASK → VCEK, verified once here. */
  chainCache: ReturnType<typeof createChainCache>;
  /** The same cache with its leaf entries hidden: a VCEK not seen before under a known ARK → ASK. */
  upperOnlyCache: ReturnType<typeof createChainCache>;
}

async function prepareSnp(v: SnpVector, signatures?: SignatureBackend): Promise<PreparedSnp> {
  const report = fromBase64(v.report);
  const leaf = fromBase64(v.leaf);
  const chain = fromBase64(v.chain);
  const now = new Date(v.at);
  const trustAnchors = AMD_ROOTS.map((r) => ({ sha256: r.sha256, product: r.product }));
  const input = { report, leaf, chain: [chain], trustAnchors, now, ...(signatures ? { signatures } : {}) };
  const first = await verifySnpEvidence(input);
  if (!first.claims) throw new Error(`${v.name}: does not verify: ${JSON.stringify(first.violations)}`);
  const split = splitCertChain([chain]);
  const certs = [
    await parseCertificate(leaf, signatures),
    await parseCertificate(split.intermediate, signatures),
    await parseCertificate(split.root, signatures),
  ] as const;
  const leafKey = await importLeafKey(certs[0], signatures);
  const chainCache = createChainCache();
  await verifySnpEvidence({ ...input, chainCache });
  return {
    name: v.name,
    report,
    leaf,
    chain,
    signatures,
    input,
    claims: first.claims,
    ref: matchingReference(first.claims),
    opts: { expectedReportData: first.claims.report.reportData },
    certs,
    leafKey,
    chainCache,
    upperOnlyCache: { ...chainCache, leafOfSource: () => undefined, noteLeaf: () => undefined },
  };
}

/** The whole verification: cold, with the chain cached, and warm (key imported). */
function snpVerifyCases(p: PreparedSnp): MicroCase[] {
  return [
    {
      name: 'snp.verify.cold',
      what: `verifySnpEvidence on a real report (${p.name}): parse report, parse VCEK + ASK + ARK, chain to the pinned root (RSA-PSS ×2), binding, report signature (ECDSA P-384); then evaluateSnp`,
      bytes: 0,
      run: async () => {
        const r = await verifySnpEvidence(p.input);
        return evaluateSnp(r.claims!, p.ref, p.opts);
      },
    },
    {
      name: 'snp.verify.chainCached',
      what: `verifySnpEvidence on the same report with AMD's chain ARK → ASK → VCEK already verified in this isolate (chain cache: ARK and ASK by the SHA-256 of their DER, the VCEK by its exact bytes): parse report, names, extensions, dates and binding of the cached certificates, report signature (ECDSA P-384); then evaluateSnp`,
      bytes: 0,
      run: async () => {
        const r = await verifySnpEvidence({ ...p.input, chainCache: p.chainCache });
        return evaluateSnp(r.claims!, p.ref, p.opts);
      },
    },
    {
      name: 'snp.verify.newVcek',
      what: `verifySnpEvidence on the same report with AMD's ARK → ASK already verified but the VCEK not (the chain cache's leaf entries hidden: a new chip or TCB of a known product): parse report and VCEK, VCEK signature under the ASK (RSA-PSS), binding, report signature (ECDSA P-384); then evaluateSnp`,
      bytes: 0,
      run: async () => {
        const r = await verifySnpEvidence({ ...p.input, chainCache: p.upperOnlyCache });
        return evaluateSnp(r.claims!, p.ref, p.opts);
      },
    },
    {
      name: 'snp.verify.warm',
      what: 'the same report re-evaluated with the chain already verified and the VCEK key imported: parse report, report signature (ECDSA P-384), evaluateSnp',
      bytes: 0,
      run: async () => {
        const parsed = parseReport(p.report);
        const violations = await verifyReportSignature(parsed.raw, p.leafKey, p.signatures);
        if (violations.length) throw new Error('signature');
        return evaluateSnp(p.claims, p.ref, p.opts);
      },
    },
  ];
}

/** The cold path's stages, to see where its time goes, and the policy evaluation alone. */
function snpColdStageCases(p: PreparedSnp): MicroCase[] {
  return [
    {
      name: 'snp.cold.parseCertificates',
      what: 'stage of snp.verify.cold: parse VCEK, ASK and ARK (strict DER reader, SHA-256 fingerprints by the signature backend)',
      bytes: 0,
      run: async () => {
        const split = splitCertChain([p.chain]);
        return Promise.all([
          parseCertificate(p.leaf, p.signatures),
          parseCertificate(split.intermediate, p.signatures),
          parseCertificate(split.root, p.signatures),
        ]);
      },
    },
    {
      name: 'snp.cold.verifyChain',
      what: 'stage of snp.verify.cold: verifyChain on parsed certificates (RSA-PSS-SHA384 4096-bit signatures, names, dates, pins)',
      bytes: 0,
      run: () =>
        verifyChain({
          leaf: p.certs[0],
          intermediate: p.certs[1],
          root: p.certs[2],
          trustAnchors: p.input.trustAnchors,
          now: p.input.now,
          ...(p.signatures ? { signatures: p.signatures } : {}),
        }),
    },
    {
      name: 'snp.cold.reportSignature',
      what: 'stage of snp.verify.cold: import the VCEK key and verify the report signature (ECDSA P-384)',
      bytes: 0,
      run: async () =>
        verifyReportSignature(p.report, await importLeafKey(p.certs[0], p.signatures), p.signatures),
    },
    {
      name: 'policy.evaluateSnp',
      what: 'evaluateSnp of verified claims against reference values (every rule in play)',
      bytes: 0,
      run: async () => evaluateSnp(p.claims, p.ref, p.opts),
    },
  ];
}

/**
 * The AI worker's hot path with another envelope crypto backend (Node: `node:crypto`, passed in by
 * the Node runner so this file stays runtime-neutral), named `<case>.<suffix>`; the same cases with
 * the default backend (WebCrypto) are in `envelopeCases` and `responseCases`.
 */
async function backendCases(backend: EnvelopeCrypto, suffix: string): Promise<MicroCase[]> {
  const now = Math.floor(Date.now() / 1000);
  const kek = await createKek({ notBefore: now - 60, notAfter: now + 86_400 });
  const ring = await KeyRing.from([kek]);
  const body = chatBody(4 * KiB);
  const sealedText = JSON.stringify(
    (await sealRequest({ kek, route: ROUTE, requestId: nextRid(), body, now })).sealed,
  );
  const open = () =>
    openRequest(sealedText, ring, { route: ROUTE, now, maxAgeSeconds: 300, envelopeCrypto: backend });
  const { context } = await open();
  const answer = chatAnswer(4 * KiB);
  const chunk = frameChunk(100);
  let sealer = createStreamSealer(context);
  let sealed = 0;
  return [
    {
      name: `envelope.openRequest.4KiB.${suffix}`,
      what: `openRequest of a sealed 4KiB chat body as JSON text, ${backend.name} backend`,
      bytes: 4 * KiB,
      run: open,
    },
    {
      name: `envelope.sealResponse.4KiB.${suffix}`,
      what: `sealResponse of a 4KiB chat answer, ${backend.name} backend`,
      bytes: 4 * KiB,
      run: () => sealResponse(context, answer),
    },
    {
      name: `stream.sealFrame.100B.${suffix}`,
      what: `seal one 100B SSE chunk into a frame, ${backend.name} backend`,
      bytes: 100,
      run: () => {
        if (++sealed % 4096 === 0) sealer = createStreamSealer(context);
        return sealer.seal([chunk]);
      },
    },
  ];
}

async function responseCases(): Promise<MicroCase[]> {
  const now = Math.floor(Date.now() / 1000);
  const kek = await createKek({ notBefore: now - 60, notAfter: now + 86_400 });
  const context = await smallRequestContext(kek, now);
  const answer = chatAnswer(4 * KiB);
  return [
    {
      name: 'envelope.sealResponse.4KiB',
      what: 'sealResponse of a 4KiB chat answer (fresh rs, HKDF, AES-GCM, base64url, JSON)',
      bytes: 4 * KiB,
      run: () => sealResponse(context, answer),
    },
  ];
}

/** A non-streamed chat answer whose JSON is about `size` bytes, with a metering `usage`. */
function chatAnswer(size: number): Record<string, unknown> {
  return {
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    model: 'sealgate-builtin',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'y'.repeat(size - 200) }, finish_reason: 'stop' },
    ],
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  };
}

/** An SSE chunk of exactly `size` characters (as the frame cases above). */
function frameChunk(size: number): string {
  const chunk = JSON.stringify({ choices: [{ delta: { content: 'x'.repeat(size) } }] }).slice(0, size);
  return chunk.length < size ? chunk + ' '.repeat(size - chunk.length) : chunk;
}

export async function microCases(
  snp: SnpVector | null,
  /** Node: the AI worker's envelope backend, measured next to WebCrypto (`.nodeCrypto` cases). */
  /** Node: the signature backend of the SNP and TDX cases (node:crypto); absent: WebCrypto. */
  extra: {
    envelopeCrypto?: EnvelopeCrypto;
    suffix?: string;
    tdx?: TdxVector | null;
    signatures?: SignatureBackend;
  } = {},
): Promise<MicroCase[]> {
  return [
    ...(await envelopeCases()),
    ...(await responseCases()),
    ...(await receiptCases()),
    ...(extra.envelopeCrypto
      ? await backendCases(extra.envelopeCrypto, extra.suffix ?? extra.envelopeCrypto.name)
      : []),
    ...(snp ? await snpCases(snp, extra.signatures) : []),
    ...(extra.tdx ? await tdxCases(extra.tdx, extra.signatures) : []),
    ...(snp?.gpu ? await gpuCases(snp.gpu) : []),
    ...(await aesCases()),
    ...(await floorCases()),
  ];
}

export interface Sample {
  name: string;
  /** Milliseconds per operation: the median of the samples. */
  msPerOp: number;
  /** Fastest sample. */
  minMsPerOp: number;
  samples: number;
  iterationsPerSample: number;
}

/**
 * Times `c` with performance.now(): calibrates the iterations so that one sample takes ≥ `sampleMs`
 * (workerd coarsens timers; many iterations per sample make that irrelevant), then takes `samples`
 * samples. Operations run one after another (awaited), as on a request path.
 */
export async function measure(c: MicroCase, sampleMs = 40, samples = 7): Promise<Sample> {
  for (let i = 0; i < 3; i++) await c.run(); // warm-up (JIT, lazy key derivations)
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await c.run();
    const dt = performance.now() - t0;
    if (dt >= sampleMs || n >= 1 << 20) break;
    n = Math.min(1 << 20, Math.max(n * 2, Math.ceil((n * sampleMs * 1.2) / Math.max(dt, 0.5))));
  }
  const per: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await c.run();
    per.push((performance.now() - t0) / n);
  }
  per.sort((a, b) => a - b);
  return {
    name: c.name,
    msPerOp: per[Math.floor(per.length / 2)]!,
    minMsPerOp: per[0]!,
    samples,
    iterationsPerSample: n,
  };
}

/** The very first verification in a fresh runtime (nothing JIT-compiled yet): one timed call. */
export async function firstVerification(v: SnpVector, signatures?: SignatureBackend): Promise<number> {
  const trustAnchors = AMD_ROOTS.map((r) => ({ sha256: r.sha256, product: r.product }));
  const t0 = performance.now();
  const r = await verifySnpEvidence({
    report: fromBase64(v.report),
    leaf: fromBase64(v.leaf),
    chain: [fromBase64(v.chain)],
    trustAnchors,
    now: new Date(v.at),
    ...(signatures ? { signatures } : {}),
  });
  const dt = performance.now() - t0;
  if (!r.claims) throw new Error(`${v.name}: does not verify`);
  return dt;
}
