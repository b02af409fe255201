/**
 * Verifying an evidence bundle (docs/protocol.md, "Evidence bundle"): the one procedure the gateway
 * runs on the attestation service and the service runs on each worker. The verifier trusts only
 * its own inputs — its manifest, its nonce, the role it expects — and learns from the bundle only
 * what the hardware signature covers: REPORT_DATA must equal the binding recomputed from the
 * verifier's own nonce and manifest digest and the bundle's keys, so the keys it returns are keys
 * that exist only inside the attested VM.
 */
import { constantTimeEqual, toHex } from '../bytes.js';
import { manifestDigest } from '../policy/manifest-digest.js';
import type { Manifest } from '../policy/manifest-types.js';
import type { ChainCache } from '../verify/chain-cache.js';
import type { KdsOptions } from '../verify/kds.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import { type Violation, violation } from '../verify/violations.js';
import { checkBundleConfig } from './check-bundle-config.js';
import type { EvidenceBundle } from './evidence-bundle.js';
import { computeReportData, type Role } from './report-data.js';
import { type AttestationVerdict, verifySnpAttestation } from './verify-snp-attestation.js';

export interface BundleVerificationInput {
  bundle: EvidenceBundle;
  /** The verifier's own manifest and its digest (computed once at start). */
  manifest: Manifest;
  manifestDigest: string;
  role: Role;
  /** The nonce the verifier sent, exactly 32 bytes. */
  nonce: Uint8Array;
  now: Date;
  kds?: KdsOptions;
  /** Verified AMD upper chains (src/verify/chain-cache.ts); the caller keeps one per isolate/process. */
  chainCache?: ChainCache;
  /** Signature checks (src/verify/signature-backend.ts); default WebCrypto, Node passes node:crypto. */
  signatures?: SignatureBackend;
}

export interface BundleVerdict extends AttestationVerdict {
  /** The party's public keys, only when trusted. */
  keys: Record<string, Uint8Array> | null;
  /** SHA-256 (hex) of the worker's configuration document, only when trusted (null for other roles). */
  configDigest: string | null;
}

export async function verifyEvidenceBundle(input: BundleVerificationInput): Promise<BundleVerdict> {
  const { bundle } = input;
  const pre: Violation[] = [];
  if (bundle.role !== input.role) {
    pre.push(
      violation('role_mismatch', `bundle is for role ${bundle.role}, expected ${input.role}`, {
        field: 'role',
        expected: input.role,
        actual: bundle.role,
      }),
    );
  }
  if (!constantTimeEqual(bundle.nonce, input.nonce)) {
    pre.push(
      violation('nonce_mismatch', 'bundle answers another nonce', {
        field: 'nonce',
        expected: toHex(input.nonce),
        actual: toHex(bundle.nonce),
      }),
    );
  }
  let theirDigest: string | null = null;
  try {
    theirDigest = await manifestDigest(new TextDecoder('utf-8', { fatal: true }).decode(bundle.manifest));
  } catch {
    theirDigest = null;
  }
  if (theirDigest !== input.manifestDigest) {
    pre.push(
      violation('manifest_mismatch', 'the party runs another manifest', {
        field: 'manifest',
        expected: input.manifestDigest,
        actual: theirDigest ?? 'unparseable',
      }),
    );
  }
  const config = await checkBundleConfig(bundle, input.manifest, input.role);
  pre.push(...config.violations);
  // Bound to OUR nonce, OUR manifest digest, the keys the bundle presents and the digest of the
  // configuration it presents: evidence made for another nonce, another manifest, other keys or
  // another configuration cannot match.
  const expectedReportData = await computeReportData({
    role: input.role,
    nonce: input.nonce,
    manifestDigest: input.manifestDigest,
    keys: bundle.keys,
    digests: config.digests,
  });
  const verdict = await verifySnpAttestation({
    report: bundle.report,
    ...(bundle.certificates.vcek || bundle.certificates.vlek
      ? { leaf: (bundle.certificates.vcek ?? bundle.certificates.vlek)! }
      : {}),
    ...(bundle.certificates.ask && bundle.certificates.ark
      ? { chain: [bundle.certificates.ask, bundle.certificates.ark] }
      : {}),
    manifest: input.manifest,
    role: input.role,
    expectedReportData,
    now: input.now,
    ...(input.kds ? { kds: input.kds } : {}),
    ...(input.chainCache ? { chainCache: input.chainCache } : {}),
    ...(input.signatures ? { signatures: input.signatures } : {}),
  });
  const violations = [...pre, ...verdict.violations];
  const trusted = violations.length === 0 && verdict.claims !== null;
  return {
    ...verdict,
    verdict: trusted ? 'trusted' : 'rejected',
    violations,
    keys: trusted ? bundle.keys : null,
    configDigest: trusted ? config.configDigest : null,
  };
}
