/**
 * A real receipt bundle for the receipt tests: the simulator's development environment (real
 * chain, real manifest), the REAL attestation service app answering a nonce with its evidence, a
 * worker certificate issued by the service's own issuer function with the service's key, and a
 * receipt the worker signs with its key — everything runtime-neutral, so it runs in Node and
 * workerd.
 */
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { toBase64Url } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { encodeReceiptBundle } from '../../src/receipts/bundle.js';
import { type ReceiptClaims, signReceipt } from '../../src/receipts/receipt.js';
import {
  makeService,
  makeWorkerIdentity,
  T0,
  T0_SECONDS,
  type TestService,
  type TestWorker,
} from '../attestation-service/support.js';

export { ENV_TIMEOUT_MS } from '../attestation-service/support.js';

export interface Fixture {
  dev: DevelopmentEnvironment;
  service: TestService;
  /** The service's evidence bundle (JSON value) for a fresh nonce. */
  serviceEvidence: Record<string, unknown>;
  worker: TestWorker;
  certificate: Uint8Array;
  claims: ReceiptClaims;
  receipt: string;
  /** encodeReceiptBundle of the above. */
  bundle: Record<string, unknown>;
}

export async function issueFor(
  fixture: Pick<Fixture, 'dev'>,
  issuer: CryptoKeyPair,
  worker: TestWorker,
  opts: { now?: Date; manifestDigest?: string; simulated?: boolean } = {},
): Promise<Uint8Array> {
  const issued = await issueWorkerCertificate({
    issuer,
    workerSigningKey: worker.signingSpki,
    workerHpkeKey: worker.hpke.publicKey,
    measurement: fixture.dev.measurements.worker,
    manifestDigest: opts.manifestDigest ?? fixture.dev.manifestDigest,
    configDigest: 'cf'.repeat(32),
    simulated: opts.simulated ?? true,
    now: opts.now ?? T0,
    lifetimeSeconds: 3600,
  });
  return issued.der;
}

export function claimsFor(dev: DevelopmentEnvironment, over: Partial<ReceiptClaims> = {}): ReceiptClaims {
  return {
    v: 1,
    id: 'gw-0123456789abcdef0123456789abcdef',
    route: '/v1/chat/completions',
    model: 'sealgate-builtin',
    manifestDigest: dev.manifestDigest,
    kid: 'ppj1Aak3rn2i2AZOp_d-yA',
    requestSha256: 'a'.repeat(64),
    responseSha256: 'b'.repeat(64),
    stream: false,
    iat: T0_SECONDS + 60,
    ...over,
  };
}

export async function makeFixture(): Promise<Fixture> {
  const dev = await createDevelopmentEnvironment({ now: T0 });
  const service = await makeService(dev);
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const res = await service.post('/v1/attestation', { nonce: toBase64Url(nonce) });
  if (res.status !== 200) throw new Error(`service attestation: ${res.status}`);
  const serviceEvidence = (await res.json()) as Record<string, unknown>;
  const worker = await makeWorkerIdentity();
  const certificate = await issueFor({ dev }, service.keys.signing, worker);
  const claims = claimsFor(dev);
  const receipt = await signReceipt({ key: worker.signing.privateKey, certificateDer: certificate, claims });
  return {
    dev,
    service,
    serviceEvidence,
    worker,
    certificate,
    claims,
    receipt,
    bundle: encodeReceiptBundle({ receipt, workerCertificate: certificate, serviceEvidence }),
  };
}
