/**
 * What AMD's certificates and reports look like, per product, as facts read from the real ones
 * (`amd-roots/*.pem` and the VCEK/VLEKs under `snp/` in the shared test data; AMD pub. 57230 "VCEK
 * Certificate and KDS Interface Specification" Table 8; pub. 56860 "SEV-SNP Firmware ABI" Table 23).
 * The development chain copies these shapes so that the verifier walks exactly the code path it
 * walks for AMD's chain; only the names say SIMULATED.
 */
import { fromHex } from '../../bytes.js';
import { explicit, integer, sequence } from '../../der/write.js';
import type { AMD_EXTENSION_OIDS } from '../../evidence/snp/cert-extensions.js';
import type { SnpProduct } from '../../evidence/snp/types.js';

/** id-RSASSA-PSS (RFC 8017 Appendix C / RFC 4055 §3.1). */
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
/** AlgorithmIdentifier { id-sha384, NULL }: AMD writes the NULL parameters (RFC 4055 §2.1 allows both). */
const SHA384_WITH_NULL = fromHex('300d06096086480165030402020500');
/** OBJECT IDENTIFIER id-mgf1 (1.2.840.113549.1.1.8). */
const OID_MGF1 = fromHex('06092a864886f70d010108');

/**
 * How the trailerField of RSASSA-PSS-params is written. Its value is always 1 (RFC 4055 §3.1), the
 * DEFAULT, so DER says to omit it; AMD's ARKs and ASKs, and the VCEKs KDS issued before late 2024
 * (Milan, 2022–2023), carry it explicitly as `[3] INTEGER 1`. The VCEKs and VLEKs issued since
 * (Genoa 2025-01, Turin 2024-11 and 2025-07, Milan VLEK 2024-12) omit it. A verifier must accept both.
 */
export type PssTrailer = 'explicit' | 'omitted';

/** RSASSA-PSS-params { sha384, mgf1(sha384), saltLength 48 [, trailerField 1] } as AMD writes them. */
export function pssParameters(trailer: PssTrailer): Uint8Array {
  return sequence(
    explicit(0, SHA384_WITH_NULL),
    explicit(1, sequence(OID_MGF1, SHA384_WITH_NULL)),
    explicit(2, integer(48)),
    ...(trailer === 'explicit' ? [explicit(3, integer(1))] : []),
  );
}

/** The whole signature AlgorithmIdentifier (71 bytes with the explicit trailer, 66 without). */
export function pssAlgorithmIdentifier(trailer: PssTrailer): Uint8Array {
  return sequence(fromHex('06092a864886f70d01010a'), pssParameters(trailer));
}

/** Names of pub. 57230 Table 8's extensions, as `AMD_EXTENSION_OIDS` spells them. */
export type AmdExtensionName = keyof typeof AMD_EXTENSION_OIDS;

export interface ProductShape {
  /** Serial numbers of AMD's ARK, ASK and ASVK for this product. */
  serials: { ark: number; ask: number; asvk: number };
  /** productName extension: the VCEK carries the stepping on Milan ("Milan-B0"), the VLEK does not.
   *  Genoa/Turin VLEKs are assumed to look like their VCEKs: no real one is in the vectors. */
  productName: { vcek: string; vlek: string };
  structVersion: number;
  /** The VCEK/VLEK extensions in the order AMD's KDS writes them (Milan/Genoa: snpSPL after the
   *  reserved spl4–7; Turin: fmcSPL first, no spl4), ending with hwID (a VCEK's) and cspID (a VLEK's). */
  extensionOrder: readonly AmdExtensionName[];
  /** hwID length: 64 bytes (Milan/Genoa) or 8 (Turin; = CHIP_ID[0:8], the rest of CHIP_ID zero). */
  hwIdLength: 64 | 8;
  /** CPUID Fn0000_0001_EAX family/model/stepping written in v3+ reports (the real vectors' values,
   *  except Milan: stepping 0, the B0 that the VCEK productName "Milan-B0" names). */
  cpuid: { family: number; model: number; stepping: number };
  /** The report version the product's current firmware writes. */
  reportVersion: 3 | 5;
}

const MILAN_GENOA_ORDER: readonly AmdExtensionName[] = [
  'structVersion',
  'productName',
  'blSPL',
  'teeSPL',
  'spl4',
  'spl5',
  'spl6',
  'spl7',
  'snpSPL',
  'ucodeSPL',
  'hwID',
  'cspID',
];

export const PRODUCT_SHAPES: Readonly<Record<SnpProduct, ProductShape>> = {
  Milan: {
    serials: { ark: 0x010000, ask: 0x010001, asvk: 0x010101 },
    productName: { vcek: 'Milan-B0', vlek: 'Milan' },
    structVersion: 0,
    extensionOrder: MILAN_GENOA_ORDER,
    hwIdLength: 64,
    cpuid: { family: 0x19, model: 0x01, stepping: 0 },
    reportVersion: 3,
  },
  Genoa: {
    serials: { ark: 0x020000, ask: 0x020002, asvk: 0x020101 },
    productName: { vcek: 'Genoa', vlek: 'Genoa' },
    structVersion: 0,
    extensionOrder: MILAN_GENOA_ORDER,
    hwIdLength: 64,
    cpuid: { family: 0x19, model: 0x11, stepping: 1 },
    reportVersion: 3,
  },
  Turin: {
    serials: { ark: 0x030000, ask: 0x030001, asvk: 0x030101 },
    productName: { vcek: 'Turin', vlek: 'Turin' },
    structVersion: 1,
    extensionOrder: [
      'structVersion',
      'productName',
      'fmcSPL',
      'blSPL',
      'teeSPL',
      'snpSPL',
      'spl5',
      'spl6',
      'spl7',
      'ucodeSPL',
      'hwID',
      'cspID',
    ],
    hwIdLength: 8,
    cpuid: { family: 0x1a, model: 0x02, stepping: 1 },
    reportVersion: 5,
  },
};

export const SNP_PRODUCTS: readonly SnpProduct[] = ['Milan', 'Genoa', 'Turin'];

/**
 * Subject/issuer names: AMD's attribute order and string types (OU, C, L, ST, O, CN; UTF8String
 * except C, a PrintableString) and AMD's CN shapes, but with O and OU saying SIMULATED so that no
 * person or log mistakes the chain for AMD's. C=XX is a user-assigned ISO 3166 code.
 */
export const SIMULATED_NAME = {
  OU: 'SIMULATED (no AMD hardware)',
  C: 'XX',
  L: 'Simulated',
  ST: 'Simulated',
  O: 'Sealgate SIMULATED',
} as const;

/** CRL distribution point: AMD's path shape under a reserved `.invalid` host (RFC 6761 §6.4), so it never resolves. */
export function simulatedCrlUrl(product: SnpProduct, key: 'vcek' | 'vlek'): string {
  return `https://kdsintf.simulated.invalid/${key}/v1/${product}/crl`;
}
