/**
 * AMD's SEV-SNP roots of trust, pinned as facts, and the trust anchors a verifier is given.
 *
 * An ARK (AMD Root Key) certificate is self-signed; what makes it AMD's is only that its bytes are
 * the ones AMD publishes at KDS `/vcek/v1/{product}/cert_chain` (pub. 57230 §4). So the pins are
 * SHA-256 fingerprints of the DER, recomputed from the `cert_chain` files shipped by
 * google/go-sev-guest `verify/trust/` (byte-identical in virtee/sev and trustee; see the test data's
 * SOURCES.md "amd-roots"). The verifier trusts no root by itself: the caller (the manifest) names
 * the anchors. These pins only let it tell AMD's roots from anything else, so that a development
 * root (the simulator's) can be trusted only when the anchor says `simulated: true` — a production
 * manifest cannot trust a dev root by accident, nor flag an AMD root as simulated.
 */
import { SealgateError } from '../errors.js';
import type { SnpProduct } from '../evidence/snp/types.js';

export interface AmdRoot {
  product: SnpProduct;
  /** The ARK's subject CN. */
  commonName: string;
  /** SHA-256 of the ARK's DER, lower-case hex. */
  sha256: string;
}

/** AMD's ARKs (one per product; they sign both the ASK and the ASVK). */
export const AMD_ROOTS: readonly AmdRoot[] = Object.freeze([
  {
    product: 'Milan',
    commonName: 'ARK-Milan',
    sha256: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd',
  },
  {
    product: 'Genoa',
    commonName: 'ARK-Genoa',
    sha256: '4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1',
  },
  {
    product: 'Turin',
    commonName: 'ARK-Turin',
    sha256: '1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a',
  },
] as const);

export interface AmdIntermediate {
  product: SnpProduct;
  /** ASK signs VCEKs; ASVK signs VLEKs. */
  kind: 'ask' | 'asvk';
  commonName: string;
  sha256: string;
}

/**
 * AMD's ASKs and ASVKs as published today, for information (logs, the CLI): the verifier does not
 * require them, because an intermediate is trusted by its ARK's signature, and AMD may reissue one.
 */
export const AMD_INTERMEDIATES: readonly AmdIntermediate[] = Object.freeze([
  {
    product: 'Milan',
    kind: 'ask',
    commonName: 'SEV-Milan',
    sha256: '67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b',
  },
  {
    product: 'Milan',
    kind: 'asvk',
    commonName: 'SEV-VLEK-Milan',
    sha256: 'c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5',
  },
  {
    product: 'Genoa',
    kind: 'ask',
    commonName: 'SEV-Genoa',
    sha256: '5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521',
  },
  {
    product: 'Genoa',
    kind: 'asvk',
    commonName: 'SEV-VLEK-Genoa',
    sha256: '197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372',
  },
  {
    product: 'Turin',
    kind: 'ask',
    commonName: 'SEV-Turin',
    sha256: '5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185',
  },
  {
    product: 'Turin',
    kind: 'asvk',
    commonName: 'SEV-VLEK-Turin',
    sha256: '104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c',
  },
] as const);

/** What the manifest supplies: a root the verifier may end a chain in. */
export interface TrustAnchor {
  /** SHA-256 of the root certificate's DER, 64 lower-case hex characters. */
  sha256: string;
  product: SnpProduct;
  /** Only for a development root (the simulator's); never on an AMD root. */
  simulated?: boolean;
}

const PRODUCTS: readonly SnpProduct[] = ['Milan', 'Genoa', 'Turin'];

/** The AMD root with this fingerprint, or undefined. */
export function amdRootBySha256(sha256: string): AmdRoot | undefined {
  return AMD_ROOTS.find((r) => r.sha256 === sha256);
}

/** The cert_chain intermediate with this fingerprint, or undefined. */
export function amdIntermediateBySha256(sha256: string): AmdIntermediate | undefined {
  return AMD_INTERMEDIATES.find((r) => r.sha256 === sha256);
}

function refuse(message: string): never {
  throw new SealgateError('invalid_argument', `trust anchors: ${message}`);
}

/**
 * Checks the anchors a caller passes (they come from the manifest, not from the evidence, so a bad
 * one is a configuration error and throws `invalid_argument` rather than becoming a violation):
 *  - each is { sha256: 64 lower-case hex, product: Milan|Genoa|Turin, simulated?: boolean };
 *  - without `simulated: true` it must be one of AMD_ROOTS, for the same product;
 *  - with `simulated: true` it must NOT be one of AMD_ROOTS (an AMD root is never "simulated");
 *  - no fingerprint twice.
 * Returns a frozen copy.
 */
export function checkTrustAnchors(anchors: readonly TrustAnchor[]): readonly TrustAnchor[] {
  if (!Array.isArray(anchors)) refuse('expected an array');
  const seen = new Set<string>();
  const out: TrustAnchor[] = [];
  for (const [i, a] of anchors.entries()) {
    if (typeof a !== 'object' || a === null) refuse(`[${i}] is not an object`);
    if (typeof a.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(a.sha256)) {
      refuse(`[${i}].sha256 must be 64 lower-case hex characters`);
    }
    if (!PRODUCTS.includes(a.product)) refuse(`[${i}].product must be Milan, Genoa or Turin`);
    if (a.simulated !== undefined && typeof a.simulated !== 'boolean') {
      refuse(`[${i}].simulated must be a boolean`);
    }
    if (seen.has(a.sha256)) refuse(`[${i}] repeats fingerprint ${a.sha256}`);
    seen.add(a.sha256);
    const amd = amdRootBySha256(a.sha256);
    if (a.simulated === true) {
      if (amd !== undefined) refuse(`[${i}] is AMD's ${amd.commonName} but says simulated`);
    } else {
      if (amd === undefined) {
        refuse(`[${i}] ${a.sha256} is not an AMD root; a development root needs simulated: true`);
      }
      if (amd.product !== a.product) refuse(`[${i}] is AMD's ${amd.commonName}, not a ${a.product} root`);
    }
    out.push(Object.freeze({ ...a }));
  }
  return Object.freeze(out);
}
