/**
 * SimulatedSnpPlatform.getReport: the report parses with the real parser to the launch
 * configuration, the firmware-owned fields are consistent with the product and the chain, and the
 * ECDSA P-384 signature over [0x000, 0x2A0) verifies under the VCEK/VLEK certificate's key.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, sha384, toHex, utf8 } from '../../../src/bytes.js';
import { isSealgateError } from '../../../src/errors.js';
import { REPORT_SIZE } from '../../../src/evidence/snp/layout.js';
import { parseReport } from '../../../src/evidence/snp/parse-report.js';
import { reportSignatureP1363 } from '../../../src/evidence/snp/signature.js';
import { decodeTcb } from '../../../src/evidence/snp/tcb.js';
import type { SnpReport } from '../../../src/evidence/snp/types.js';
import { createDevChain, type DevChain } from '../../../src/platform/simulator/dev-chain.js';
import { measurementFor } from '../../../src/platform/simulator/measurement.js';
import { SimulatedSnpPlatform } from '../../../src/platform/simulator/platform.js';
import { signReport } from '../../../src/platform/simulator/sign-report.js';

x509.cryptoProvider.set(crypto);

const NOW = new Date('2026-11-20T10:00:00Z');
const MILAN_TCB = { bootloader: 4, tee: 0, snp: 24, microcode: 217 };
const TURIN_TCB = { fmc: 1, bootloader: 1, tee: 0, snp: 2, microcode: 71 };
const GENOA_TCB = { bootloader: 10, tee: 0, snp: 23, microcode: 84 };
const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const REPORT_DATA = Uint8Array.from({ length: 64 }, (_, i) => i + 1);

let milan: DevChain;
let turin: DevChain;
let genoaVlek: DevChain;

// RSA-4096 key generation takes seconds (more on a loaded machine); workerd's default hook
// timeout is 10 s, so the chains get their own budget.
const CHAIN_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  [milan, turin, genoaVlek] = await Promise.all([
    createDevChain({ product: 'Milan', now: NOW, tcb: MILAN_TCB }),
    createDevChain({ product: 'Turin', now: NOW, tcb: TURIN_TCB }),
    createDevChain({ product: 'Genoa', now: NOW, tcb: GENOA_TCB, signingKey: 'vlek' }),
  ]);
}, CHAIN_TIMEOUT_MS);

async function leafKey(chain: DevChain): Promise<CryptoKey> {
  const cert = new x509.X509Certificate(chain.certificates.vcek.slice());
  return cert.publicKey.export({ name: 'ECDSA', namedCurve: 'P-384' }, ['verify']);
}

async function signatureVerifies(report: SnpReport, chain: DevChain): Promise<boolean> {
  const sig = reportSignatureP1363(report.signature);
  if (sig === null) return false;
  return crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-384' },
    await leafKey(chain),
    sig as BufferSource,
    report.signedBytes as BufferSource,
  );
}

describe('Milan VCEK, v3, fully configured', () => {
  let platform: SimulatedSnpPlatform;
  let measurement: Uint8Array;
  const config = {
    hostData: fill(32, 0x11),
    idKeyDigest: fill(48, 0x22),
    authorKeyDigest: fill(48, 0x33),
    familyId: fill(16, 0x44),
    imageId: fill(16, 0x55),
    guestSvn: 7,
    vmpl: 1,
    policy: { singleSocket: true },
  };
  beforeAll(async () => {
    measurement = await measurementFor('attestation-service');
    platform = new SimulatedSnpPlatform(milan, { measurement, ...config });
  });

  it('parses to the configured values', async () => {
    const { report } = await platform.getReport(REPORT_DATA);
    expect(report).toHaveLength(REPORT_SIZE);
    const r = parseReport(report);
    expect(r.version).toBe(3);
    expect(r.measurement).toEqual(measurement);
    expect(r.reportData).toEqual(REPORT_DATA);
    expect(r.hostData).toEqual(config.hostData);
    expect(r.idKeyDigest).toEqual(config.idKeyDigest);
    expect(r.authorKeyDigest).toEqual(config.authorKeyDigest);
    expect(r.authorKeyEn).toBe(true);
    expect(r.familyId).toEqual(config.familyId);
    expect(r.imageId).toEqual(config.imageId);
    expect(r.guestSvn).toBe(7);
    expect(r.vmpl).toBe(1);
    // SMT (bit 16) + must-be-one bit 17 + SINGLE_SOCKET (bit 20); DEBUG off, ABI 0.0.
    expect(r.policy.raw).toBe(0x130000n);
    expect(r.policy).toMatchObject({ debug: false, smt: true, singleSocket: true, abiMajor: 0, abiMinor: 0 });
  });

  it("firmware-owned fields: TCBs = the VCEK's, CHIP_ID = hwID, Milan CPUID, VCEK signer, no MA", async () => {
    const r = parseReport((await platform.getReport(REPORT_DATA)).report);
    for (const raw of [r.reportedTcb, r.currentTcb, r.committedTcb, r.launchTcb]) {
      expect(decodeTcb(raw, 'Milan')).toEqual(MILAN_TCB);
    }
    // Milan/Genoa TCB_VERSION layout: bl byte 0, tee 1, snp 6, ucode 7.
    expect(r.reportedTcb).toBe(0xd918000000000004n);
    expect(r.chipId).toEqual(milan.hwId);
    expect(r.cpuid).toEqual({ family: 0x19, model: 0x01, stepping: 0 });
    expect(r.signingKey).toBe('vcek');
    expect(r.maskChipKey).toBe(false);
    expect(r.signatureAlgo).toBe(1);
    expect(r.reportIdMa).toEqual(fill(32, 0xff));
    expect(r.platformInfo.raw).toBe(0x27n);
    expect(r.currentVersion).toEqual({ major: 1, minor: 55, build: 0 });
    expect(r.launchMitVector).toBeNull();
  });

  it('the signature verifies under the VCEK certificate and breaks with any signed byte', async () => {
    const { report } = await platform.getReport(REPORT_DATA);
    const r = parseReport(report);
    expect(await signatureVerifies(r, milan)).toBe(true);
    const tampered = report.slice();
    tampered[0x90] = tampered[0x90]! ^ 1; // first MEASUREMENT byte
    expect(await signatureVerifies(parseReport(tampered), milan)).toBe(false);
    // ...and not under another chain's VCEK.
    expect(await signatureVerifies(r, turin)).toBe(false);
  });

  it('returns the chain as an extended report carries it, as copies', async () => {
    const { certificates } = await platform.getReport(REPORT_DATA);
    expect(certificates).toEqual(milan.certificates);
    certificates.vcek[0] = 0;
    expect(milan.certificates.vcek[0]).toBe(0x30);
  });

  it('REPORT_ID is fresh per report; a VMPL can be asked per call', async () => {
    const [a, b] = await Promise.all([
      platform.getReport(REPORT_DATA),
      platform.getReport(REPORT_DATA, { vmpl: 3 }),
    ]);
    const ra = parseReport(a.report);
    const rb = parseReport(b.report);
    expect(toHex(ra.reportId)).not.toBe(toHex(rb.reportId));
    expect(ra.vmpl).toBe(1);
    expect(rb.vmpl).toBe(3);
  });

  it('rejects REPORT_DATA that is not 64 bytes and a VMPL above 3', async () => {
    const e1 = await platform.getReport(new Uint8Array(32)).catch((e: unknown) => e);
    expect(isSealgateError(e1, 'invalid_argument')).toBe(true);
    expect((e1 as Error).message).toBe(
      'simulated platform: reportData must be a Uint8Array of 64 bytes, got 32',
    );
    const e2 = await platform.getReport(REPORT_DATA, { vmpl: 4 }).catch((e: unknown) => e);
    expect((e2 as Error).message).toBe('simulated platform: vmpl must be an integer 0..3, got 4');
  });
});

describe('Turin VCEK', () => {
  it('v5 by default, Turin CPUID and TCB layout, CHIP_ID = 8-byte hwID then zeros', async () => {
    const platform = new SimulatedSnpPlatform(turin, { measurement: await measurementFor('worker') });
    const { report } = await platform.getReport(REPORT_DATA);
    const r = parseReport(report);
    expect(r.version).toBe(5);
    expect(r.cpuid).toEqual({ family: 0x1a, model: 0x02, stepping: 1 });
    expect(decodeTcb(r.reportedTcb, 'Turin')).toEqual(TURIN_TCB);
    // Turin layout: fmc byte 0, bl 1, tee 2, snp 3, ucode 7.
    expect(r.reportedTcb).toBe(0x4700000002000101n);
    expect(r.chipId).toEqual(concatBytes(turin.hwId!, new Uint8Array(56)));
    expect(r.launchMitVector).toBe(0n);
    expect(r.currentMitVector).toBe(0n);
    expect(await signatureVerifies(r, turin)).toBe(true);
  });

  it('versions 2 and 3 on request (v2 has no CPUID); launch TCB can differ from reported', async () => {
    const measurement = await measurementFor('worker');
    const launchTcb = { ...TURIN_TCB, microcode: 60 };
    for (const version of [2, 3] as const) {
      const p = new SimulatedSnpPlatform(turin, { measurement, version, launchTcb });
      const r = parseReport((await p.getReport(REPORT_DATA)).report);
      expect(r.version).toBe(version);
      expect(r.cpuid).toEqual(version === 2 ? null : { family: 0x1a, model: 0x02, stepping: 1 });
      expect(decodeTcb(r.launchTcb, 'Turin')).toEqual(launchTcb);
      expect(decodeTcb(r.reportedTcb, 'Turin')).toEqual(TURIN_TCB);
      expect(await signatureVerifies(r, turin)).toBe(true);
    }
  });
});

describe('Genoa VLEK', () => {
  it('signer VLEK, CHIP_ID zero, Genoa CPUID, signature verifies under the VLEK', async () => {
    const p = new SimulatedSnpPlatform(genoaVlek, { measurement: fill(48, 0xab) });
    const r = parseReport((await p.getReport(REPORT_DATA)).report);
    expect(r.signingKey).toBe('vlek');
    expect(r.chipId).toEqual(new Uint8Array(64));
    expect(r.cpuid).toEqual({ family: 0x19, model: 0x11, stepping: 1 });
    expect(r.version).toBe(3);
    expect(decodeTcb(r.reportedTcb, 'Genoa')).toEqual(GENOA_TCB);
    expect(await signatureVerifies(r, genoaVlek)).toBe(true);
  });
});

describe('signReport', () => {
  it('signs serialized fields; re-signing the parsed fields gives the same signed bytes', async () => {
    const p = new SimulatedSnpPlatform(milan, { measurement: fill(48, 1) });
    const r = parseReport((await p.getReport(REPORT_DATA)).report);
    const { raw: _raw, signedBytes: _signed, signature: _sig, ...fields } = r;
    const again = parseReport(await signReport(fields, milan.vcekPrivateKey));
    expect(toHex(again.signedBytes)).toBe(toHex(r.signedBytes));
    expect(await signatureVerifies(again, milan)).toBe(true);
    // The high 24 bytes of each 72-byte LE field stay zero (a P-384 scalar is 48 bytes).
    expect(again.signature.rLe.subarray(48)).toEqual(new Uint8Array(24));
    expect(again.signature.sLe.subarray(48)).toEqual(new Uint8Array(24));
  });
});

describe('launch configuration checks', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'measurement length',
      { measurement: new Uint8Array(32) },
      'measurement must be a Uint8Array of 48 bytes',
    ],
    ['hostData length', { hostData: new Uint8Array(48) }, 'hostData must be a Uint8Array of 32 bytes'],
    ['version 4', { version: 4 }, 'version must be 2, 3 or 5, got 4'],
    ['chipId length', { chipId: new Uint8Array(8) }, 'chipId must be a Uint8Array of 64 bytes'],
    [
      'firmware version',
      { firmware: { major: 1, minor: 256, build: 0 } },
      'serializeReport: currentVersion.minor must be an integer in [0, 255]',
    ],
    ['fmc on Milan', { tcb: { ...MILAN_TCB, fmc: 1 } }, 'tcb.fmc: only Turin has an FMC SPL, not Milan'],
    [
      'SMT disallowed on an SMT host',
      { policy: { smt: false } },
      'policy.smt is false but platformInfo.smtEnabled is true: firmware refuses that launch',
    ],
  ];
  it.each(cases)('%s', (_name, extra, message) => {
    let err: unknown;
    try {
      new SimulatedSnpPlatform(milan, { measurement: fill(48, 1), ...extra } as never);
    } catch (e) {
      err = e;
    }
    expect(isSealgateError(err, 'invalid_argument')).toBe(true);
    expect((err as Error).message.replace(/^simulated platform: /, '')).toBe(message);
  });

  it('SMT off in both policy and platform is a valid launch', async () => {
    const p = new SimulatedSnpPlatform(milan, {
      measurement: fill(48, 1),
      policy: { smt: false },
      platformInfo: { smtEnabled: false },
    });
    const r = parseReport((await p.getReport(REPORT_DATA)).report);
    expect(r.policy.smt).toBe(false);
    expect(r.platformInfo.smtEnabled).toBe(false);
  });
});

describe('measurementFor', () => {
  it('is SHA-384 of a domain-separated label, pinned', async () => {
    const m = await measurementFor('attestation-service');
    expect(toHex(m)).toBe(
      '00344acd246fa4e714be16bc8c32f8f1ce5eb5100e0aa7070a9acfd412a9ba87e2b87b847012e76619b7fd73444b377f',
    );
    const expected = await sha384(
      concatBytes(
        utf8.encode('sealgate/simulated-snp-measurement/v1'),
        Uint8Array.of(0),
        utf8.encode('attestation-service'),
      ),
    );
    expect(m).toEqual(expected);
    expect(toHex(await measurementFor('worker'))).not.toBe(toHex(m));
    expect(toHex(m)).not.toBe(toHex(await sha384(utf8.encode('attestation-service'))));
  });

  it('rejects an empty label', async () => {
    await expect(measurementFor('')).rejects.toThrow('measurementFor: label must be a non-empty string');
  });
});
