/**
 * Offline verification of a receipt bundle (docs/verification.md "Checking a receipt"), trusting
 * nothing the gateway says — only signatures, the hardware evidence and a manifest:
 *
 *   1. receipt     the compact JWS parses strictly (receipt.ts);
 *   2. signature   it names the bundle's worker certificate (x5t#S256) and verifies under the
 *                  certificate's subject key — the worker's attested `signing` key;
 *   3. certificate the worker certificate is signed by the attestation service's `signing` key
 *                  (the one in the service's evidence), was valid when the receipt was signed
 *                  (notBefore ≤ iat < notAfter) and was issued for the receipt's manifest digest;
 *   4. service     the service's evidence verifies (`verifyEvidenceBundle`, role
 *                  attestation-service): AMD chain to a root the manifest pins, report signature,
 *                  every reference value, and REPORT_DATA binding exactly that `signing` key (and
 *                  the manifest digest) — so the key that signed the certificate exists only inside
 *                  the attested service VM. Its nonce is the gateway's, so freshness is the
 *                  gateway's word: offline, this proves that attested code held the key;
 *   5. manifest    the manifest used (the caller's own, or else the bundle's) has the digest the
 *                  receipt and the certificate name.
 *
 * Every step is reported; after the first failure the later ones are not run ("not checked").
 * Pure: `kds` (for evidence without its certificates) is passed in.
 */
import { verifyEvidenceBundle } from '../attestation/verify-evidence-bundle.js';
import { toHex } from '../bytes.js';
import { manifestDigest as digestOf } from '../policy/manifest-digest.js';
import type { Manifest } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import {
  parseWorkerCertificate,
  verifyWorkerCertificate,
  type WorkerCertificate,
} from '../service-client/worker-certificate.js';
import type { KdsOptions } from '../verify/kds.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import { parseReceiptBundle, type ReceiptBundle } from './bundle.js';
import { type ReceiptClaims, verifyReceiptSignature } from './receipt.js';

export const RECEIPT_STEPS = ['receipt', 'signature', 'certificate', 'service', 'manifest'] as const;
export type ReceiptStep = (typeof RECEIPT_STEPS)[number];

export interface StepResult {
  step: ReceiptStep;
  status: 'ok' | 'failed' | 'not checked';
  /** One sentence for people. */
  message: string;
}

export interface ReceiptVerdict {
  verdict: 'verified' | 'rejected';
  steps: StepResult[];
  claims: ReceiptClaims | null;
  /** The service's evidence chains to a root the manifest marks `simulated` (proves nothing). */
  simulated: boolean;
  /** Digest of the manifest the chain was checked against. */
  manifestDigest: string | null;
  /** Whether that manifest was the caller's own (`manifestText`) rather than the bundle's copy. */
  ownManifest: boolean;
}

export interface VerifyReceiptInput {
  /** The bundle: JSON text, a parsed value, or an already parsed `ReceiptBundle`. */
  bundle: unknown;
  /** The manifest the caller trusts (exact text). Absent: the copy inside the service evidence. */
  manifestText?: string;
  kds?: KdsOptions;
  /** Signature checks (src/verify/signature-backend.ts); default WebCrypto, Node passes node:crypto. */
  signatures?: SignatureBackend;
}

class StepFailed extends Error {}

/** The steps reported so far; `fail` records the current step as failed and stops the run. */
class StepLog {
  readonly steps: StepResult[] = [];
  current: ReceiptStep = 'receipt';
  ok(step: ReceiptStep, message: string): void {
    this.steps.push({ step, status: 'ok', message });
  }
  fail(message: string): never {
    this.steps.push({ step: this.current, status: 'failed', message });
    throw new StepFailed(message);
  }
  /** Runs `run` as `step`: anything it throws fails the step with its message. */
  async attempt<T>(step: ReceiptStep, run: () => Promise<T> | T): Promise<T> {
    this.current = step;
    try {
      return await run();
    } catch (e) {
      if (e instanceof StepFailed) throw e;
      return this.fail((e as Error).message);
    }
  }
}

export async function verifyReceiptBundle(input: VerifyReceiptInput): Promise<ReceiptVerdict> {
  const log = new StepLog();
  const out: ReceiptVerdict = {
    verdict: 'rejected',
    steps: log.steps,
    claims: null,
    simulated: false,
    manifestDigest: null,
    ownManifest: input.manifestText !== undefined,
  };
  try {
    const bundle = await checkReceipt(log, input.bundle);
    const { claims } = bundle.receipt;
    out.claims = claims;
    const at = new Date(claims.iat * 1000);
    await checkSignature(log, bundle);
    const cert = await checkCertificate(log, bundle, claims, at);
    const digest = await checkService(log, input, bundle, at, out);
    checkManifest(log, input, claims, digest, cert.simulated === out.simulated);
    out.verdict = 'verified';
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    for (const step of RECEIPT_STEPS) {
      if (!log.steps.some((s) => s.step === step)) {
        log.steps.push({ step, status: 'not checked', message: 'not checked (an earlier step failed)' });
      }
    }
  }
  return out;
}

/** 1. The bundle and its compact JWS parse strictly. */
async function checkReceipt(log: StepLog, value: unknown): Promise<ReceiptBundle> {
  const bundle = await log.attempt('receipt', () => parseBundle(value));
  const { claims } = bundle.receipt;
  log.ok(
    'receipt',
    `receipt for request ${claims.id} (${claims.route}, model ${claims.model}, ${claims.stream ? 'streamed' : 'not streamed'}), signed at ${iso(claims.iat)}`,
  );
  return bundle;
}

/** 2. The receipt verifies under the subject key of the worker certificate it names. */
async function checkSignature(log: StepLog, bundle: ReceiptBundle): Promise<void> {
  await log.attempt('signature', async () => {
    const parsed = await parseWorkerCertificate(bundle.workerCertificate);
    await verifyReceiptSignature(bundle.receipt, bundle.workerCertificate, parsed.signingKeySpki);
  });
  log.ok('signature', 'the receipt is signed by the key of the worker certificate it names');
}

/** 3. The worker certificate: signed by the service's key, valid at `iat`, for the receipt's manifest. */
async function checkCertificate(
  log: StepLog,
  bundle: ReceiptBundle,
  claims: ReceiptClaims,
  at: Date,
): Promise<WorkerCertificate> {
  const serviceKey = bundle.serviceEvidence.keys.signing;
  let cert: WorkerCertificate | undefined;
  await log.attempt('certificate', async () => {
    if (!serviceKey) log.fail('the service evidence presents no signing key');
    cert = await verifyWorkerCertificate({
      certificate: bundle.workerCertificate,
      issuerKey: serviceKey!,
      now: at,
      manifestDigest: claims.manifestDigest,
    });
  });
  log.ok(
    'certificate',
    `worker certificate ${cert!.serialNumber} (measurement ${toHex(cert!.measurement)}) is signed by the service's signing key, valid at ${at.toISOString()}, for manifest ${cert!.manifestDigest}, with configuration ${cert!.configDigest} (where it sends prompts), ${gpuText(cert!.gpus)}`,
  );
  return cert!;
}

/** The certificate's attested GPUs, for the check's line. */
function gpuText(gpus: WorkerCertificate['gpus']): string {
  if (gpus.length === 0) return 'no attested GPU';
  const each = gpus.map(
    (g, i) =>
      `GPU ${i} ${g.architecture} driver ${g.driverVersion} VBIOS ${g.vbiosVersion} measurements ${g.measurementsSha256}`,
  );
  return `attested GPUs: ${each.join('; ')}`;
}

/**
 * 4. The service's evidence verifies against the manifest and binds its `signing` key. Sets
 * `out.manifestDigest` as soon as the manifest is digested (also when the evidence then fails) and
 * `out.simulated`; returns the digest.
 */
async function checkService(
  log: StepLog,
  input: VerifyReceiptInput,
  bundle: ReceiptBundle,
  at: Date,
  out: ReceiptVerdict,
): Promise<string> {
  const manifestText = input.manifestText ?? decodeManifest(bundle);
  const manifest: Manifest = await log.attempt('service', () => parseManifest(manifestText));
  const digest = await log.attempt('service', () => digestOf(manifestText));
  out.manifestDigest = digest;
  const verdict = await log.attempt('service', () =>
    verifyEvidenceBundle({
      bundle: bundle.serviceEvidence,
      manifest,
      manifestDigest: digest,
      role: 'attestation-service',
      nonce: bundle.serviceEvidence.nonce,
      now: at,
      ...(input.kds ? { kds: input.kds } : {}),
      ...(input.signatures ? { signatures: input.signatures } : {}),
    }),
  );
  log.current = 'service';
  if (verdict.verdict !== 'trusted' || !verdict.measurement) {
    log.fail(
      `the service's hardware evidence is rejected: ${verdict.violations.map((v) => `${v.code} (${v.message})`).join('; ')}`,
    );
  }
  out.simulated = verdict.simulated;
  const sim = out.simulated ? 'SIMULATED ' : '';
  const what = verdict.tdx
    ? `${sim}Intel TDX evidence verifies (PCK chain to SGX root ${verdict.tdx.rootSha256}, MRTD ${toHex(verdict.measurement!)}, TCB ${verdict.tdx.tcb.status})`
    : `${sim}SEV-SNP evidence verifies (chain to root ${verdict.claims!.chain.rootSha256}, measurement ${toHex(verdict.measurement!)})`;
  log.ok('service', `the service's ${what} and binds that signing key in REPORT_DATA`);
  return digest;
}

/**
 * 5. The manifest checked has the digest the receipt (and so the certificate) names, and the
 * certificate's `simulated` flag says what the anchor the service's evidence chains to says.
 */
function checkManifest(
  log: StepLog,
  input: VerifyReceiptInput,
  claims: ReceiptClaims,
  digest: string,
  simulatedAgrees: boolean,
): void {
  log.current = 'manifest';
  if (claims.manifestDigest !== digest) {
    log.fail(`the receipt names manifest ${claims.manifestDigest}, the manifest checked is ${digest}`);
  }
  if (!simulatedAgrees) {
    log.fail(
      "the worker certificate's simulated flag differs from the anchor the service's evidence chains to",
    );
  }
  log.ok(
    'manifest',
    `manifest ${digest} (${input.manifestText !== undefined ? 'the one you gave' : 'the copy in the bundle: compare it with the manifest you expect'}) is the one the receipt, the certificate and the service name`,
  );
}

function parseBundle(value: unknown): ReceiptBundle {
  if (typeof value === 'object' && value !== null && 'receipt' in value && 'serviceEvidence' in value) {
    const b = value as Partial<ReceiptBundle>;
    if (b.workerCertificate instanceof Uint8Array) return value as ReceiptBundle;
  }
  return parseReceiptBundle(value);
}

function decodeManifest(bundle: ReceiptBundle): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bundle.serviceEvidence.manifest);
  } catch {
    return '';
  }
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
