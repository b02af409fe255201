/**
 * The SIMULATED TDX chain (tdx-chain.ts) as JSON, so that a development stack keeps one root — the
 * one its manifest pins — across restarts and processes. It holds the simulated CA, PCK and TCB
 * Signing private keys (PKCS#8): a development file, written mode 0600, never committed. Import
 * recomputes the root's fingerprint and checks that each key belongs to its certificate, so a
 * mixed-up file fails at start, not as a rejected quote later.
 */
import { fromBase64, fromHex, sha256, toArrayBuffer, toBase64, toHex } from '../../bytes.js';
import { parseX509Certificate } from '../../der/certificate.js';
import { SealgateError } from '../../errors.js';
import { decodePckExtensions, OID_SGX_EXTENSIONS } from '../../evidence/tdx/pck-extensions.js';
import { ECDSA_P256, ECDSA_SHA256, type TdxDevChain } from './tdx-chain.js';

export const TDX_DEV_CHAIN_FORMAT = 'sealgate.simulated-tdx-chain.v1';

const NAMES = ['root', 'pckCa', 'pck', 'tcbSigning'] as const;
type Name = (typeof NAMES)[number];

export interface TdxDevChainJson {
  format: typeof TDX_DEV_CHAIN_FORMAT;
  simulated: true;
  /** Base64 DER. */
  certificates: Record<Name, string>;
  /** Base64 PKCS#8 of each P-256 private key. */
  keys: Record<Name, string>;
}

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', `TDX dev chain JSON: ${message}`);
};

export async function exportTdxDevChain(chain: TdxDevChain): Promise<TdxDevChainJson> {
  const certificates = {} as Record<Name, string>;
  const keys = {} as Record<Name, string>;
  for (const n of NAMES) {
    certificates[n] = toBase64(chain.certificates[n]);
    keys[n] = toBase64(new Uint8Array(await crypto.subtle.exportKey('pkcs8', chain.keys[n])));
  }
  return { format: TDX_DEV_CHAIN_FORMAT, simulated: true, certificates, keys };
}

function field(o: unknown, name: Name, where: string): Uint8Array {
  const v = (o as Record<string, unknown> | null)?.[name];
  if (typeof v !== 'string') fail(`${where}.${name} must be a base64 string`);
  try {
    return fromBase64(v as string);
  } catch {
    return fail(`${where}.${name} is not base64`);
  }
}

/** A key belongs to a certificate when a signature by it verifies under the certificate's SPKI. */
async function belongs(key: CryptoKey, spki: Uint8Array): Promise<boolean> {
  const pub = await crypto.subtle.importKey('spki', toArrayBuffer(spki), ECDSA_P256, false, ['verify']);
  const probe = fromHex('7364672d7464782d6b65792d636865636b'); // "sdg-tdx-key-check"
  const sig = await crypto.subtle.sign(ECDSA_SHA256, key, toArrayBuffer(probe));
  return crypto.subtle.verify(ECDSA_SHA256, pub, sig, toArrayBuffer(probe));
}

export async function importTdxDevChain(json: unknown): Promise<TdxDevChain> {
  const o = json as Partial<TdxDevChainJson> | null;
  if (o?.format !== TDX_DEV_CHAIN_FORMAT || o.simulated !== true)
    fail(`format must be ${TDX_DEV_CHAIN_FORMAT}`);
  const certificates = {} as TdxDevChain['certificates'];
  const keys = {} as TdxDevChain['keys'];
  const spkis = {} as Record<Name, Uint8Array>;
  for (const n of NAMES) {
    certificates[n] = field(o!.certificates, n, 'certificates');
    spkis[n] = (await parseX509Certificate(certificates[n])).spki;
    const pkcs8 = toArrayBuffer(field(o!.keys, n, 'keys'));
    keys[n] = await crypto.subtle.importKey('pkcs8', pkcs8, ECDSA_P256, true, ['sign']);
    if (!(await belongs(keys[n], spkis[n]))) fail(`keys.${n} does not belong to certificates.${n}`);
  }
  const pck = await parseX509Certificate(certificates.pck);
  const ext = pck.extensions.find((e) => e.oid === OID_SGX_EXTENSIONS) ?? fail('PCK has no SGX extensions');
  const p = decodePckExtensions(ext.value);
  return {
    simulated: true,
    certificates,
    keys,
    platform: {
      fmspc: p.fmspc,
      pceId: p.pceId,
      sgxTcbComponents: p.sgxTcbComponents,
      pceSvn: p.pceSvn,
      cpuSvn: p.cpuSvn,
      ppid: p.ppid,
    },
    rootSha256: toHex(await sha256(certificates.root)),
  };
}
