/**
 * NVIDIA RIMs against one GPU's evidence (nvtrust `cc_admin.py` RIM steps and `verifier.py`):
 *
 *   1. each RIM parses in the one accepted shape (parse-rim.ts)            rim_malformed
 *   2. it is for this GPU: product GH100, colloquialVersion equal to the
 *      report's driver version (driver RIM) or VBIOS version (VBIOS RIM,
 *      compared case-insensitively: "96.00.5E.00.01" vs "96.00.5e.00.01")  rim_malformed
 *   3. exactly one driver RIM and one VBIOS RIM                             rim_conflict
 *   4. DigestValue = SHA-384 of the canonical document minus the Signature,
 *      and SignatureValue (ECDSA P-384 SHA-384, r ‖ s) verifies over the
 *      canonical SignedInfo under the first KeyInfo certificate            rim_signature_invalid
 *   5. the KeyInfo chain (at most MAX_RIM_CHAIN_CERTIFICATES, counted
 *      before parsing) ends in a pinned RIM root (ecdsa-chain.ts)          root_untrusted, cert_chain_invalid,
 *                                                                            cert_expired
 *   6. no index active in both RIMs                                         rim_conflict
 *   7. every active RIM index i: one of its alternatives equals SPDM block
 *      i + 1 of the report, with the same size                              gpu_measurement_mismatch
 * nvtrust skips index 35 when NVDEC0 is disabled — in intent: its comparison of the opaque bytes
 * with an enum is never true, so it compares index 35 always. So do we: every active index.
 */
import { constantTimeEqual, sha384, toHex } from '../../bytes.js';
import { type Certificate, parseX509Certificate } from '../../der/certificate.js';
import { isSealgateError } from '../../errors.js';
import { type NvidiaRim, parseRim } from '../../evidence/nvidia/rim/parse-rim.js';
import type { GpuEvidence } from '../../evidence/nvidia/types.js';
import { type Violation, violation } from '../violations.js';
import { importP384Key, verifyEcdsaChain, verifyP1363Ecdsa } from './ecdsa-chain.js';

export type RimKind = 'driver' | 'vbios';

export interface VerifiedRim {
  kind: RimKind;
  tagId: string;
  version: string;
  /** SHA-256 of the signer certificate's DER. */
  signerSha256: string;
}

const PRODUCT = 'GH100';

/**
 * Certificates a RIM's KeyInfo may carry: NVIDIA's RIM chains have four (signer, Reference Value
 * L3, Reference Value GH100 CA, CoRIM signing Root CA); nvtrust fixes no length for them, so the
 * bound leaves room. Counted before any is parsed: a 64 KiB RIM held 60 (56 copies of the root),
 * which verified — each copy self-signed and "issued" by the next — at 3–4× the CPU of the RIM.
 */
export const MAX_RIM_CHAIN_CERTIFICATES = 8;

function kindOf(rim: NvidiaRim, evidence: GpuEvidence): RimKind | null {
  const o = evidence.response.opaque;
  if (rim.version === o.driverVersion) return 'driver';
  if (rim.version.toLowerCase() === o.vbiosVersion.toLowerCase()) return 'vbios';
  return null;
}

async function checkSignature(rim: NvidiaRim, signer: Certificate, field: string): Promise<Violation[]> {
  const out: Violation[] = [];
  if (!constantTimeEqual(await sha384(rim.signedDocument), rim.digestValue)) {
    out.push(
      violation('rim_signature_invalid', 'DigestValue is not the SHA-384 of the canonical document', {
        field,
      }),
    );
  }
  const key = await importP384Key(signer.spki);
  const ok =
    key !== null &&
    rim.signatureValue.length === 96 &&
    (await verifyP1363Ecdsa(key, rim.signatureValue, rim.signedInfo));
  if (!ok)
    out.push(
      violation('rim_signature_invalid', 'SignatureValue does not verify under the signer certificate', {
        field,
      }),
    );
  return out;
}

/** One RIM through steps 1, 2, 4 and 5; the parsed RIM and its kind when it is for this GPU. */
async function verifyOne(
  bytes: Uint8Array,
  n: number,
  evidence: GpuEvidence,
  anchors: readonly string[],
  at: Date,
  out: Violation[],
): Promise<{ rim: NvidiaRim; kind: RimKind; signer: Certificate; certs: Certificate[] } | null> {
  let rim: NvidiaRim;
  let certs: Certificate[];
  const field = `rims[${n}]`;
  try {
    rim = parseRim(bytes);
    if (rim.certificates.length > MAX_RIM_CHAIN_CERTIFICATES) {
      const text = `KeyInfo holds ${rim.certificates.length} certificates, more than ${MAX_RIM_CHAIN_CERTIFICATES}`;
      out.push(violation('cert_chain_invalid', text, { field, actual: rim.certificates.length }));
      return null;
    }
    certs = await Promise.all(rim.certificates.map((c) => parseX509Certificate(c)));
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    out.push(violation('rim_malformed', e.message, { field }));
    return null;
  }
  const kind = kindOf(rim, evidence);
  if (rim.product !== PRODUCT || kind === null) {
    out.push(
      violation(
        'rim_malformed',
        `RIM ${rim.product} ${rim.version} is for neither this GPU's driver nor its VBIOS`,
        {
          field,
          actual: `${rim.product} ${rim.version}`,
        },
      ),
    );
    return null;
  }
  const before = out.length;
  out.push(...(await checkSignature(rim, certs[0]!, `rims.${kind}`)));
  const chain = await verifyEcdsaChain({ certs, anchors, at, field: `rims.${kind}.chain` });
  out.push(...chain.violations);
  return out.length === before ? { rim, kind, signer: certs[0]!, certs } : null;
}

/** Steps 6–7 for two RIMs that verified. */
function compare(driver: NvidiaRim, vbios: NvidiaRim, evidence: GpuEvidence): Violation[] {
  const out: Violation[] = [];
  const blocks = new Map(evidence.response.blocks.map((b) => [b.index, b.value]));
  const golden = new Map<number, { kind: RimKind; alternatives: readonly Uint8Array[]; size: number }>();
  for (const [kind, rim] of [['driver', driver] as const, ['vbios', vbios] as const]) {
    for (const m of rim.measurements) {
      if (!m.active) continue;
      if (golden.has(m.index)) {
        out.push(
          violation('rim_conflict', `index ${m.index} is active in both the driver and the VBIOS RIM`, {
            field: 'rims',
          }),
        );
      }
      golden.set(m.index, { kind, alternatives: m.alternatives, size: m.size });
    }
  }
  for (const [index, g] of [...golden].sort((a, b) => a[0] - b[0])) {
    const value = blocks.get(index + 1);
    const match =
      value !== undefined &&
      value.length === g.size &&
      g.alternatives.some((alt) => constantTimeEqual(alt, value));
    if (!match) {
      out.push(
        violation(
          'gpu_measurement_mismatch',
          `measurement ${index} (SPDM block ${index + 1}) differs from the ${g.kind} RIM`,
          {
            field: `measurements.${index + 1}`,
            expected: g.alternatives.map(toHex),
            actual: value === undefined ? null : toHex(value),
          },
        ),
      );
    }
  }
  return out;
}

export interface RimsResult {
  violations: Violation[];
  /** Both RIMs, when every check held. */
  verified: { driver: VerifiedRim; vbios: VerifiedRim } | null;
  /** Each verified RIM's signing chain (signer first, root last), for revocation checks. */
  chains: { kind: RimKind; certs: readonly Certificate[] }[];
}

export async function verifyRims(
  rims: readonly Uint8Array[],
  evidence: GpuEvidence,
  anchors: readonly string[],
  at: Date,
): Promise<RimsResult> {
  const violations: Violation[] = [];
  const found: Partial<Record<RimKind, { rim: NvidiaRim; signer: Certificate; certs: Certificate[] }>> = {};
  const kinds: RimKind[] = [];
  for (const [n, bytes] of rims.entries()) {
    const one = await verifyOne(bytes, n, evidence, anchors, at, violations);
    if (one === null) continue;
    kinds.push(one.kind);
    found[one.kind] = one;
  }
  for (const kind of ['driver', 'vbios'] as const) {
    const count = kinds.filter((k) => k === kind).length;
    if (count > 1)
      violations.push(violation('rim_conflict', `${count} ${kind} RIMs were given`, { field: 'rims' }));
  }
  const { driver, vbios } = found;
  if (violations.length > 0) return { violations, verified: null, chains: [] };
  if (driver === undefined || vbios === undefined) {
    const missing = driver === undefined ? 'driver' : 'VBIOS';
    return {
      violations: [violation('rim_conflict', `no ${missing} RIM was given`, { field: 'rims' })],
      verified: null,
      chains: [],
    };
  }
  violations.push(...compare(driver.rim, vbios.rim, evidence));
  if (violations.length > 0) return { violations, verified: null, chains: [] };
  const summary = (kind: RimKind, r: { rim: NvidiaRim; signer: Certificate }): VerifiedRim => ({
    kind,
    tagId: r.rim.tagId,
    version: r.rim.version,
    signerSha256: r.signer.sha256,
  });
  return {
    violations,
    verified: { driver: summary('driver', driver), vbios: summary('vbios', vbios) },
    chains: [
      { kind: 'driver', certs: driver.certs },
      { kind: 'vbios', certs: vbios.certs },
    ],
  };
}
