/**
 * exportDevChain / importDevChain: a chain survives JSON (so a dev stack keeps its pinned root
 * across restarts), and import refuses anything that would make reports fail later: a foreign
 * private key, metadata that disagrees with the VCEK's extensions, a wrong format.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64, toHex } from '../../../src/bytes.js';
import { isSealgateError } from '../../../src/errors.js';
import { parseReport } from '../../../src/evidence/snp/parse-report.js';
import { reportSignatureP1363 } from '../../../src/evidence/snp/signature.js';
import { createDevChain, type DevChain } from '../../../src/platform/simulator/dev-chain.js';
import {
  DEV_CHAIN_FORMAT,
  type DevChainJson,
  exportDevChain,
  importDevChain,
} from '../../../src/platform/simulator/dev-chain-json.js';
import { SimulatedSnpPlatform } from '../../../src/platform/simulator/platform.js';

x509.cryptoProvider.set(crypto);

const NOW = new Date('2026-11-20T10:00:00Z');
const TCB = { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 };

let chain: DevChain;
let json: DevChainJson;

// RSA-4096 key generation takes seconds (more on a loaded machine); workerd's default hook
// timeout is 10 s, so the chains get their own budget.
const CHAIN_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  chain = await createDevChain({ product: 'Turin', now: NOW, tcb: TCB });
  // Through a string, as a dev stack writes it to disk.
  json = JSON.parse(JSON.stringify(await exportDevChain(chain))) as DevChainJson;
}, CHAIN_TIMEOUT_MS);

async function importError(mutate: (j: DevChainJson) => unknown): Promise<string> {
  const copy = structuredClone(json);
  const err = await importDevChain(mutate(copy) ?? copy).catch((e: unknown) => e);
  expect(isSealgateError(err, 'invalid_argument')).toBe(true);
  return (err as Error).message;
}

describe('round trip', () => {
  it('exports plain JSON with the format tag and the metadata', () => {
    expect(json.format).toBe(DEV_CHAIN_FORMAT);
    expect(json).toMatchObject({
      simulated: true,
      product: 'Turin',
      signingKey: 'vcek',
      tcb: TCB,
      cspId: null,
    });
    expect(json.hwId).toBe(toHex(chain.hwId!));
    expect(json.certificates.ark).toBe(toBase64(chain.certificates.ark));
  });

  it('imports to the same certificates, fingerprint, trust anchor and metadata', async () => {
    const back = await importDevChain(json);
    expect(back.certificates).toEqual(chain.certificates);
    expect(back.arkSha256).toBe(chain.arkSha256);
    expect(back.trustAnchor).toEqual(chain.trustAnchor);
    expect(back.tcb).toEqual(chain.tcb);
    expect(back.hwId).toEqual(chain.hwId);
    expect(back.product).toBe('Turin');
    // And exports again to identical JSON.
    expect(JSON.parse(JSON.stringify(await exportDevChain(back)))).toEqual(json);
  });

  it('reports signed with the imported key verify under the original VCEK certificate', async () => {
    const back = await importDevChain(json);
    const p = new SimulatedSnpPlatform(back, { measurement: new Uint8Array(48).fill(7) });
    const r = parseReport((await p.getReport(new Uint8Array(64))).report);
    const key = await new x509.X509Certificate(chain.certificates.vcek.slice()).publicKey.export(
      { name: 'ECDSA', namedCurve: 'P-384' },
      ['verify'],
    );
    const ok = await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-384' },
      key,
      reportSignatureP1363(r.signature)! as BufferSource,
      r.signedBytes as BufferSource,
    );
    expect(ok).toBe(true);
  });
});

describe('import refuses', () => {
  it("a private key that is not the VCEK's", async () => {
    const other = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const pkcs8 = toBase64(new Uint8Array(await crypto.subtle.exportKey('pkcs8', other.privateKey)));
    expect(
      await importError((j) => {
        j.vcekPrivateKeyPkcs8 = pkcs8;
      }),
    ).toBe('dev chain JSON: vcekPrivateKeyPkcs8 does not match the public key of certificates.vcek');
  });

  it('metadata that disagrees with the VCEK extensions', async () => {
    expect(
      await importError((j) => {
        j.tcb = { ...TCB, snp: 3 };
      }),
    ).toBe('dev chain JSON: tcb differs from the SPLs of certificates.vcek');
    expect(
      await importError((j) => {
        j.hwId = '00'.repeat(8);
      }),
    ).toBe('dev chain JSON: hwId differs from the hwID of certificates.vcek');
    expect(
      await importError((j) => {
        j.signingKey = 'vlek';
        j.hwId = null;
        j.cspId = 'CN=x';
      }),
    ).toBe('dev chain JSON: certificates.vcek is a VCEK, signingKey says vlek');
  });

  it('a wrong format, a non-certificate, a non-key, a non-object', async () => {
    expect(
      await importError((j) => {
        (j as { format: string }).format = 'other';
      }),
    ).toBe(`dev chain JSON: format must be "${DEV_CHAIN_FORMAT}"`);
    expect(
      await importError((j) => {
        j.certificates.ask = toBase64(new Uint8Array([0x30, 0x00]));
      }),
    ).toBe('dev chain JSON: certificates.ask is not a DER certificate');
    expect(
      await importError((j) => {
        j.vcekPrivateKeyPkcs8 = toBase64(new Uint8Array(16));
      }),
    ).toBe('dev chain JSON: vcekPrivateKeyPkcs8 is not a P-384 PKCS#8 private key');
    expect(await importError(() => 'a string')).toBe('dev chain JSON: expected an object');
  });
});
