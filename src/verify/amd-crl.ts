/**
 * AMD's certificate revocation lists (pub. 57230 §4.3 "Certificate Revocation List"):
 *
 *   GET https://kdsintf.amd.com/vcek/v1/{product}/crl   → DER, revokes ASKs (and VCEKs, when listed)
 *   GET https://kdsintf.amd.com/vlek/v1/{product}/crl   → DER, revokes ASVKs (and VLEKs)
 *
 * Each is an X.509 v2 CRL (RFC 5280 §5) issued and signed by the product's ARK with RSASSA-PSS
 * SHA-384, salt 48 — the parameters of the certificate chain (certificates.ts). The generic reader
 * (src/der/crl.ts) decodes it; here it is judged for an AMD chain. Checked, each failure a
 * violation (never a throw):
 *   1. the CRL parses strictly                                        → crl_invalid
 *   2. its issuer is the ARK's subject, byte for byte, and the ARK may
 *      sign CRLs (keyUsage cRLSign, RFC 5280 §6.3.3 (f))              → crl_invalid
 *   3. its signature verifies under the ARK's key (AMD's PSS only)    → crl_invalid
 *   4. `now` lies in [thisUpdate, nextUpdate] (RFC 5280 §6.3.3)       → crl_invalid
 *   5. neither the ASK/ASVK's nor the leaf's serial is listed         → cert_revoked
 * The ARK must already be a trust anchor (verify-chain.ts): the CRL is only as good as its key.
 */
import { constantTimeEqual } from '../bytes.js';
import { crlIsCurrent, type ParsedCrl, parseCrl, verifyCrlSignature } from '../der/crl.js';
import type { SnpProduct } from '../evidence/snp/types.js';
import {
  AMD_PSS_HASH,
  AMD_PSS_SALT_LENGTH,
  importIssuerKey,
  isAmdPssAlgorithm,
  type ParsedCertificate,
} from './certificates.js';
import { KDS_BASE_URL, type KdsOptions, kdsGet, kdsRemember } from './kds.js';
import { type SignatureBackend, type VerifyKey, webCryptoSignatures } from './signature-backend.js';
import { type Violation, violation } from './violations.js';

/** The CRL URL of a product, for the VCEK chain (ASK) or the VLEK chain (ASVK). */
export function crlUrl(product: SnpProduct, kind: 'vcek' | 'vlek'): string {
  return `${KDS_BASE_URL}/${kind}/v1/${product}/crl`;
}

export interface CrlInput {
  crl: Uint8Array;
  root: ParsedCertificate;
  intermediate: ParsedCertificate;
  leaf: ParsedCertificate;
  now: Date;
  /** Default: WebCrypto. */
  signatures?: SignatureBackend;
}

export interface CrlResult {
  violations: Violation[];
  /** The CRL is authentic and current (1–4 held): worth caching until its nextUpdate. */
  trusted: boolean;
  nextUpdate: Date | null;
}

/** AMD's scheme for `verifyCrlSignature`: its PSS AlgorithmIdentifier and nothing else, under `key`. */
function amdPssScheme(key: VerifyKey | null, signatures: SignatureBackend) {
  return async (algorithm: Uint8Array, signature: Uint8Array, signed: Uint8Array): Promise<boolean> => {
    if (key === null || !isAmdPssAlgorithm(algorithm)) return false;
    return await signatures.verifyRsaPss(key, AMD_PSS_HASH, AMD_PSS_SALT_LENGTH, signature, signed);
  };
}

export async function checkAmdCrl(input: CrlInput): Promise<CrlResult> {
  const invalid = (message: string): CrlResult => ({
    violations: [violation('crl_invalid', message, { field: 'crl' })],
    trusted: false,
    nextUpdate: null,
  });
  let crl: ParsedCrl;
  try {
    crl = parseCrl(input.crl);
  } catch (e) {
    return invalid(`AMD CRL: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!constantTimeEqual(crl.issuer, input.root.subject)) {
    return invalid(`AMD CRL issuer "${crl.issuerText}" is not the ARK's subject`);
  }
  if (!input.root.mayCrlSign) return invalid("the ARK's keyUsage does not allow cRLSign");
  const signatures = input.signatures ?? webCryptoSignatures;
  const arkKey = await importIssuerKey(input.root, signatures);
  if (!(await verifyCrlSignature(crl, amdPssScheme(arkKey, signatures)))) {
    return invalid('AMD CRL signature does not verify under the ARK (RSASSA-PSS SHA-384)');
  }
  if (!crlIsCurrent(crl, input.now)) {
    return invalid(
      `AMD CRL is current ${crl.thisUpdate.toISOString()} .. ${crl.nextUpdate.toISOString()}, not at ${input.now.toISOString()}`,
    );
  }
  const violations: Violation[] = [];
  for (const [name, field, cert] of [
    ['ASK/ASVK', 'chain.intermediate', input.intermediate],
    ['VCEK/VLEK', 'chain.leaf', input.leaf],
  ] as const) {
    if (crl.revokedSerials.has(cert.serialNumber)) {
      violations.push(
        violation('cert_revoked', `AMD's CRL revokes the ${name} (serial ${cert.serialNumber})`, {
          field,
          actual: cert.serialNumber,
        }),
      );
    }
  }
  return { violations, trusted: true, nextUpdate: crl.nextUpdate };
}

export interface RevocationInput {
  /** AMD's CRL as the caller has it (DER). Takes precedence over KDS. */
  crl?: Uint8Array;
  kds?: KdsOptions;
  /** The chain verified, its root a trust anchor; `amdRoot`: the anchor is AMD's, not simulated. */
  root: ParsedCertificate;
  intermediate: ParsedCertificate;
  leaf: ParsedCertificate;
  product: SnpProduct;
  kind: 'vcek' | 'vlek';
  amdRoot: boolean;
  now: Date;
  /** Default: WebCrypto. */
  signatures?: SignatureBackend;
}

/**
 * Revocation of a verified chain. The CRL is the caller's, else fetched from KDS when the KDS
 * options ask for it (`revocation: true`) and the root is AMD's (a simulated root has no KDS).
 * With neither, revocation is not checked (docs/verification.md says when that is). A CRL from
 * KDS is cached only once it verified, until at most its nextUpdate. A CRL that was to be checked
 * and could not be (no answer, garbage, another signer, stale) is a violation: fail closed.
 */
export async function revocationViolations(input: RevocationInput): Promise<Violation[]> {
  let bytes = input.crl;
  let url: string | null = null;
  let fromCache = false;
  if (bytes === undefined) {
    if (!input.kds?.revocation || !input.amdRoot) return [];
    url = crlUrl(input.product, input.kind);
    const got = await kdsGet(input.kds, url);
    if (!got.ok) return [violation('crl_invalid', `AMD CRL: ${got.error}`, { field: 'crl' })];
    bytes = got.bytes;
    fromCache = got.fromCache;
  }
  const result = await checkAmdCrl({ ...input, crl: bytes });
  if (input.kds && url !== null && !fromCache && result.trusted && result.nextUpdate !== null) {
    await kdsRemember(input.kds, url, bytes, result.nextUpdate, input.now);
  }
  return result.violations;
}
