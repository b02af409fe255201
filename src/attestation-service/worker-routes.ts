/**
 * The worker side of the service (docs/services.md "Attestation service"):
 *
 *   POST /v1/workers/challenge  → a stateless, MAC'd, single-use nonce (challenges.ts)
 *   POST /v1/workers/register   → the worker's evidence for that nonce, verified against the
 *                                 manifest's `worker` reference values; on success a certificate and
 *                                 every active KEK sealed to the worker's attested `hpke` key
 *   POST /v1/workers/keys       → the active KEKs again, for the holder of a valid certificate and
 *                                 its key (the poll is signed by it: key-poll-proof.ts)
 *
 * Every answer that carries keys is signed by the service's attested `signing` key, bound to the
 * worker's certificate and a freshness nonce (src/service-client/kek-delivery.ts).
 *
 * The caller of a refused registration learns only `attestation_rejected`; which check failed
 * (violation codes, fields) goes to the log (docs/architecture.md "Fail closed everywhere").
 */

import { type EvidenceBundle, parseEvidenceBundle } from '../attestation/evidence-bundle.js';
import { summarizeGpu } from '../attestation/gpu-summary.js';
import { verifyEvidenceBundle } from '../attestation/verify-evidence-bundle.js';
import { sha256, toBase64Url } from '../bytes.js';
import { errorResponse } from '../http/errors.js';
import { importPublicKey } from '../keys/hpke.js';
import { type SealedKek, sealKek } from '../keys/kek-transport.js';
import { isSimulatedGpuRoot } from '../policy/trust-anchors.js';
import {
  KEY_POLL_NONCE_LENGTH,
  type KekDeliveryKind,
  signKekDelivery,
} from '../service-client/kek-delivery.js';
import { KEY_POLL_PROOF_LENGTH, keyPollBytes, verifyKeyPollProof } from '../service-client/key-poll-proof.js';
import { verifyWorkerCertificate } from '../service-client/worker-certificate.js';
import type { GpuClaims } from '../verify/nvidia/verify-gpu.js';
import { issueWorkerCertificate } from './issue-certificate.js';
import { base64UrlField, readJsonObject } from './request-body.js';
import type { ServiceRuntime } from './runtime.js';

const MAX_CHALLENGE_BYTES = 256;
/**
 * A bundle: manifest ≤ 256 KiB, three certificates ≤ 16 KiB each and up to 8 GPUs of evidence and
 * chain ≤ 16 KiB each and two RIMs ≤ 64 KiB each (gpu-bundle.ts), in base64url (×4/3): ≈ 1.8 MiB.
 */
const MAX_REGISTER_BYTES = 2 * 1024 * 1024;
const MAX_CERTIFICATE_BYTES = 16 * 1024;
const WORKER_KEY_NAMES = ['hpke', 'signing'];
const REJECTED = 'the worker’s evidence was not accepted';

export async function postChallenge(rt: ServiceRuntime, req: Request): Promise<Response> {
  const body = await readJsonObject(req, { maxBytes: MAX_CHALLENGE_BYTES, fields: [] });
  if (!body.ok) return body.response;
  const challenge = await rt.challenges.issue(rt.nowSeconds());
  return Response.json({ nonce: toBase64Url(challenge.nonce), expiresAt: challenge.expiresAt });
}

/** Why a registration is refused: for the log only; the caller learns `attestation_rejected`. */
interface Rejection {
  rejected: string;
  detail: Record<string, unknown>;
}

/** What the evidence of an accepted worker establishes. */
interface AttestedWorker {
  hpkeKey: Uint8Array;
  signingKey: Uint8Array;
  measurement: Uint8Array;
  /** SHA-256 of the worker's configuration document, bound in REPORT_DATA (docs/protocol.md). */
  configDigest: string;
  /** Each GPU's verified claims ([] for a worker without GPUs). */
  gpus: GpuClaims[];
  simulated: boolean;
}

type IssuedCertificate = Awaited<ReturnType<typeof issueWorkerCertificate>>;

/**
 * Bounded before the body is read (register-admission.ts): registrations in flight, per caller and
 * in all, and the time a body may take to arrive.
 */
export async function postRegister(
  rt: ServiceRuntime,
  req: Request,
  caller: string | null,
): Promise<Response> {
  const release = rt.registrations.enter(caller);
  if (!release) {
    rt.deps.log('warn', 'registration_busy', { caller, inFlight: rt.registrations.inFlight });
    return errorResponse('rate_limited', 'too many registrations in progress, retry later', {
      headers: { 'retry-after': '1' },
    });
  }
  try {
    return await register(rt, req);
  } finally {
    release();
  }
}

async function register(rt: ServiceRuntime, req: Request): Promise<Response> {
  const body = await readJsonObject(req, {
    maxBytes: MAX_REGISTER_BYTES,
    fields: ['bundle'],
    deadlineMs: rt.registrations.limits.bodyDeadlineMs,
  });
  if (!body.ok) return body.response;
  let bundle: EvidenceBundle;
  try {
    bundle = parseEvidenceBundle(body.value.bundle);
  } catch (e) {
    return errorResponse('invalid_request', (e as Error).message, { param: 'bundle' });
  }
  const { deps } = rt;
  const now = deps.now();
  const nowSeconds = rt.nowSeconds();
  const reject = ({ rejected, detail }: Rejection): Response => {
    deps.log('warn', 'worker_rejected', { reason: rejected, ...detail });
    return errorResponse('attestation_rejected', REJECTED);
  };

  // The bundle names the challenge it answers: ours, live and unspent (stateless, challenges.ts).
  const checked = await rt.challenges.check(bundle.nonce, nowSeconds);
  if (!checked.ok) {
    return reject({
      rejected: `challenge ${checked.reason}`,
      detail: { code: `challenge_${checked.reason}` },
    });
  }
  const worker = await appraiseWorker(rt, bundle, bundle.nonce, now);
  if ('rejected' in worker) return reject(worker);
  // Single use, spent only by evidence that verified: a flood of junk cannot fill the spent set.
  if (!rt.challenges.spend(bundle.nonce, checked.expiresAt, nowSeconds)) {
    return reject({ rejected: 'challenge spent', detail: { code: 'challenge_spent' } });
  }
  const issued = await certifyWorker(rt, worker, now);
  if ('rejected' in issued) return reject(issued);
  const added = rt.workers.add(
    {
      serialNumber: issued.serialNumber,
      hpkeKey: worker.hpkeKey,
      hpkeKeySha256: issued.hpkeKeySha256,
      notAfter: Math.floor(issued.notAfter.getTime() / 1000),
      certificate: issued.der,
    },
    nowSeconds,
  );
  if (!added) {
    deps.log('error', 'worker_registry_full', { serialNumber: issued.serialNumber });
    return errorResponse('rate_limited', 'too many registered workers, retry later');
  }
  return await answerRegistered(rt, worker, issued, bundle.nonce);
}

/**
 * The worker's evidence verifies against the manifest's `worker` reference values and the
 * challenge's nonce, and presents exactly an `hpke` (X-Wing) and a `signing` key.
 */
async function appraiseWorker(
  rt: ServiceRuntime,
  bundle: EvidenceBundle,
  nonce: Uint8Array,
  now: Date,
): Promise<AttestedWorker | Rejection> {
  const { deps } = rt;
  const verdict = await verifyEvidenceBundle({
    bundle,
    manifest: deps.manifest,
    manifestDigest: deps.manifestDigest,
    role: 'worker',
    nonce,
    now,
    ...(deps.kds ? { kds: deps.kds } : {}),
    ...(deps.pcs ? { pcs: deps.pcs } : {}),
    ...(deps.gpuOcsp ? { gpuOcsp: deps.gpuOcsp } : {}),
    chainCache: rt.chainCache,
    gpuChainCache: rt.gpuChainCache,
    tdxCache: rt.tdxCache,
    ...(deps.signatures ? { signatures: deps.signatures } : {}),
  });
  if (
    verdict.verdict !== 'trusted' ||
    !verdict.measurement ||
    !verdict.keys ||
    !verdict.configDigest ||
    !verdict.gpus
  ) {
    const violations = verdict.violations.map((v) => ({ code: v.code, field: v.field, message: v.message }));
    return { rejected: 'evidence rejected', detail: { violations } };
  }
  const keyNames = Object.keys(verdict.keys).sort();
  if (keyNames.join(',') !== WORKER_KEY_NAMES.join(',')) {
    return {
      rejected: 'worker keys must be exactly hpke and signing',
      detail: { code: 'worker_keys_invalid', keyNames },
    };
  }
  let hpkeKey: Uint8Array;
  try {
    hpkeKey = importPublicKey(verdict.keys.hpke!);
  } catch (e) {
    return {
      rejected: 'worker hpke key invalid',
      detail: { code: 'worker_keys_invalid', message: (e as Error).message },
    };
  }
  // What the certificate says about simulation comes from the roots the chains verified to (the
  // CPU evidence's, or any GPU's), not from the bundle's own (unsigned) `simulated` flag.
  const simulated =
    verdict.simulated || verdict.gpus.some((g) => isSimulatedGpuRoot(deps.manifest, g.rootSha256));
  return {
    hpkeKey,
    signingKey: verdict.keys.signing!,
    measurement: verdict.measurement,
    configDigest: verdict.configDigest,
    gpus: verdict.gpus,
    simulated,
  };
}

/** The worker's certificate, signed by the service's attested `signing` key (issue-certificate.ts). */
async function certifyWorker(
  rt: ServiceRuntime,
  worker: AttestedWorker,
  now: Date,
): Promise<IssuedCertificate | Rejection> {
  const { deps } = rt;
  try {
    return await issueWorkerCertificate({
      issuer: deps.keys.signing,
      workerSigningKey: worker.signingKey,
      workerHpkeKey: worker.hpkeKey,
      measurement: worker.measurement,
      manifestDigest: deps.manifestDigest,
      configDigest: worker.configDigest,
      gpus: await Promise.all(worker.gpus.map(summarizeGpu)),
      simulated: worker.simulated,
      now,
      lifetimeSeconds: deps.manifest.keyPolicy.lifetimeSeconds,
      ...(deps.random ? { random: deps.random } : {}),
    });
  } catch (e) {
    return {
      rejected: 'worker signing key invalid',
      detail: { code: 'worker_keys_invalid', message: (e as Error).message },
    };
  }
}

/** The certificate, the service's `signing` key, and every active KEK sealed to the worker. */
async function answerRegistered(
  rt: ServiceRuntime,
  worker: AttestedWorker,
  issued: IssuedCertificate,
  challengeNonce: Uint8Array,
): Promise<Response> {
  const keys = await sealActiveKeys(rt, worker.hpkeKey);
  // Signed for this certificate and the challenge this registration answered (single use).
  const sig = await signDelivery(rt, 'register', issued.der, challengeNonce, keys);
  const { publicKeys } = await rt.ready;
  logUncheckedRevocation(rt, issued.serialNumber, worker.gpus);
  rt.deps.log('info', 'worker_registered', {
    serialNumber: issued.serialNumber,
    notAfter: issued.notAfter.toISOString(),
    simulated: worker.simulated,
    gpus: worker.gpus.length,
    keys: keys.map((k) => k.kid),
  });
  return Response.json({
    certificate: toBase64Url(issued.der),
    serviceKey: toBase64Url(publicKeys.signing),
    keys,
    sig,
  });
}

/**
 * Under `gpu.ocsp: "best-effort"` a GPU certificate whose responder could not be reached is
 * registered anyway: say so to operators, per GPU, from its verified claims (`revocation.warnings`).
 */
function logUncheckedRevocation(rt: ServiceRuntime, serialNumber: string, gpus: readonly GpuClaims[]): void {
  const unchecked = gpus.flatMap((g, n) =>
    (g.revocation?.warnings ?? []).map((warning) => ({ gpu: n, warning })),
  );
  if (unchecked.length > 0) rt.deps.log('warn', 'gpu_revocation_unchecked', { serialNumber, unchecked });
}

export async function postWorkerKeys(rt: ServiceRuntime, req: Request): Promise<Response> {
  const body = await readJsonObject(req, {
    maxBytes: 2 * MAX_CERTIFICATE_BYTES,
    fields: ['certificate', 'nonce', 'proof'],
  });
  if (!body.ok) return body.response;
  const der = base64UrlField(body.value.certificate, 'certificate', {
    minLength: 1,
    maxLength: MAX_CERTIFICATE_BYTES,
  });
  if (!der.ok) return der.response;
  const nonce = base64UrlField(body.value.nonce, 'nonce', { length: KEY_POLL_NONCE_LENGTH });
  if (!nonce.ok) return nonce.response;
  const proof = base64UrlField(body.value.proof, 'proof', { length: KEY_POLL_PROOF_LENGTH });
  if (!proof.ok) return proof.response;
  const { deps } = rt;
  const refuse = (reason: string): Response => {
    deps.log('warn', 'worker_certificate_refused', { reason });
    return errorResponse(
      'certificate_rejected',
      'the certificate was not issued by this service or has expired',
    );
  };
  let serialNumber: string;
  let hpkeKeySha256: Uint8Array;
  let signingKeySpki: Uint8Array;
  try {
    ({ serialNumber, hpkeKeySha256, signingKeySpki } = await verifyWorkerCertificate({
      certificate: der.value,
      issuerKey: deps.keys.signing.publicKey,
      now: deps.now(),
      manifestDigest: deps.manifestDigest,
    }));
  } catch (e) {
    return refuse((e as Error).message);
  }
  const worker = rt.workers.lookup(serialNumber, hpkeKeySha256, rt.nowSeconds());
  if (!worker) return refuse(`serial ${serialNumber} is not a registered worker with this hpke key`);
  // The holder of the certificate's key asks, not whoever read the (public) certificate.
  const asked = keyPollBytes(deps.manifestDigest, await sha256(der.value), nonce.value);
  if (!(await verifyKeyPollProof(signingKeySpki, asked, proof.value))) {
    return refuse(`serial ${serialNumber}: the poll is not signed by the certificate's key`);
  }
  const keys = await sealActiveKeys(rt, worker.hpkeKey);
  // Signed for the certificate presented and the worker's own nonce for this poll.
  return Response.json({ keys, sig: await signDelivery(rt, 'keys', der.value, nonce.value, keys) });
}

/** `sig` of a key answer (kek-delivery.ts): the attested signing key over keys, addressee, nonce. */
async function signDelivery(
  rt: ServiceRuntime,
  kind: KekDeliveryKind,
  certificate: Uint8Array,
  nonce: Uint8Array,
  keys: readonly SealedKek[],
): Promise<string> {
  const binding = {
    kind,
    manifestDigest: rt.deps.manifestDigest,
    certificateSha256: await sha256(certificate),
    nonce,
  };
  return await signKekDelivery(rt.deps.keys.signing.privateKey, binding, keys);
}

/** Every unexpired KEK, sealed to `hpkeKey` for release (purpose `kek-release`, manifest-bound). */
async function sealActiveKeys(rt: ServiceRuntime, hpkeKey: Uint8Array): Promise<SealedKek[]> {
  const { kekContext } = await rt.ready;
  const keys = rt.keys.active(rt.nowSeconds());
  return Promise.all(
    keys.map((kek) =>
      sealKek(hpkeKey, kek, {
        purpose: 'kek-release',
        context: kekContext,
        ...(rt.deps.random ? { random: rt.deps.random } : {}),
      }),
    ),
  );
}
