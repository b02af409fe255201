/**
 * RIMs on the real set that has them (hopper-545-with-rims-nvtrust, driver 545.00 and VBIOS
 * 96.00.5E.00.01): both RIMs' XML signatures (C14N 1.1, ecdsa-sha384) and chains to the pinned
 * CoRIM root verify at 2024-01-01 and every active measurement equals the report's. Then: a
 * measurement edited, the signature edited, the RIM re-signed under another root, a measurement
 * that differs under a trusted (test) root, the wrong or a missing RIM, a RIM past its signer's
 * validity, and shapes that invite signature wrapping are all rejected.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRim } from '../../../src/evidence/nvidia/rim/parse-rim.js';
import { NVIDIA_GPU_ROOTS } from '../../../src/verify/nvidia/nvidia-roots.js';
import { verifyGpuEvidence } from '../../../src/verify/nvidia/verify-gpu.js';
import { resign, type TestSigner, testSigner } from './rim-forge.js';
import { loadGpuSet, rimsOf545, v } from './support.js';

const codes = (r: { violations: { code: string }[] }) => r.violations.map((x) => x.code);
const dec = new TextDecoder();
const enc = new TextEncoder();

/** The driver RIM's active index 7 (SPDM block 8) as written in the real RIM. */
const DRIVER_7 =
  '0e0ee161b59bf124ce6b6dca6efa7616d28077862c0e57dca7d5efd63d00eeed4851922941e846a38c464cbedbc168d9';
const EDITED_7 = `1${DRIVER_7.slice(1)}`;

describe.skipIf(!v.present)(`GPU RIMs${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  let signer: TestSigner;
  beforeAll(async () => {
    signer = await testSigner();
  });
  const setUp = () => {
    const { input } = loadGpuSet('hopper-545-with-rims-nvtrust');
    const { driver, vbios } = rimsOf545();
    return { input, driver, vbios, driverXml: dec.decode(driver) };
  };

  it('both real RIMs verify and every active measurement matches', async () => {
    const { input, driver, vbios } = setUp();
    const r = await verifyGpuEvidence({ ...input, rims: [vbios, driver] });
    expect(r.violations).toEqual([]);
    expect(r.claims!.rims).toEqual({
      driver: {
        kind: 'driver',
        version: '545.00',
        tagId: parseRim(driver).tagId,
        signerSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      vbios: {
        kind: 'vbios',
        version: '96.00.5E.00.01',
        tagId: parseRim(vbios).tagId,
        signerSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    expect(
      parseRim(driver)
        .measurements.filter((m) => m.active)
        .map((m) => m.index),
    ).toEqual([7, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]);
  });

  it('an XML declaration and whitespace around the root change nothing (C14N drops them)', async () => {
    const { input, vbios, driverXml } = setUp();
    const declared = enc.encode(`<?xml version="1.0" encoding="UTF-8"?>\n${driverXml}\n`);
    expect((await verifyGpuEvidence({ ...input, rims: [declared, vbios] })).violations).toEqual([]);
    const pi = enc.encode(`<?xml version="1.0"?><?other x?>${driverXml}`);
    expect(codes(await verifyGpuEvidence({ ...input, rims: [pi, vbios] }))).toEqual(['rim_malformed']);
  });

  it('rejects a RIM with one measurement changed (digest)', async () => {
    const { input, vbios, driverXml } = setUp();
    expect(driverXml).toContain(DRIVER_7);
    const edited = enc.encode(driverXml.replace(DRIVER_7, EDITED_7));
    const r = await verifyGpuEvidence({ ...input, rims: [edited, vbios] });
    expect(codes(r)).toEqual(['rim_signature_invalid']);
    expect(r.violations[0]!.message).toMatch(/DigestValue/);
  });

  it('rejects a RIM whose signature is changed', async () => {
    const { input, vbios, driverXml } = setUp();
    const edited = enc.encode(driverXml.replace('<ds:SignatureValue>/Bgn', '<ds:SignatureValue>/Bgm'));
    const r = await verifyGpuEvidence({ ...input, rims: [edited, vbios] });
    expect(codes(r)).toEqual(['rim_signature_invalid']);
    expect(r.violations[0]!.message).toMatch(/SignatureValue/);
  });

  it('rejects a RIM re-signed under another root', async () => {
    const { input, vbios, driverXml } = setUp();
    const forged = await resign(driverXml.replace(DRIVER_7, EDITED_7), signer);
    const r = await verifyGpuEvidence({ ...input, rims: [forged, vbios] });
    expect(codes(r)).toEqual(['root_untrusted']);
  });

  it('compares measurements: a RIM signed under a trusted (test) root with one value changed', async () => {
    const { input, vbios, driverXml } = setUp();
    const roots = { device: NVIDIA_GPU_ROOTS.device, rim: [...NVIDIA_GPU_ROOTS.rim, signer.rootSha256] };
    const same = await resign(driverXml, signer);
    expect((await verifyGpuEvidence({ ...input, roots, rims: [same, vbios] })).violations).toEqual([]);
    const changed = await resign(driverXml.replace(DRIVER_7, EDITED_7), signer);
    const r = await verifyGpuEvidence({ ...input, roots, rims: [changed, vbios] });
    expect(codes(r)).toEqual(['gpu_measurement_mismatch']);
    expect(r.violations[0]!.field).toBe('measurements.8');
    // An index made active in both RIMs.
    const both = await resign(
      driverXml.replace('index="0" active="False"', 'index="0" active="True"'),
      signer,
    );
    expect(codes(await verifyGpuEvidence({ ...input, roots, rims: [both, vbios] }))).toContain(
      'rim_conflict',
    );
  });

  it('rejects a RIM past its signer certificate at the time checked', async () => {
    const { input, driver, vbios } = setUp();
    const r = await verifyGpuEvidence({
      ...input,
      at: new Date('2026-01-01T00:00:00Z'),
      rims: [driver, vbios],
    });
    expect(new Set(codes(r))).toEqual(new Set(['cert_expired']));
    expect(r.violations.map((x) => x.field).sort()).toEqual(['rims.driver.chain[0]', 'rims.vbios.chain[0]']);
  });

  it('rejects a missing, doubled or foreign RIM', async () => {
    const { input, driver, vbios } = setUp();
    expect(codes(await verifyGpuEvidence({ ...input, rims: [driver] }))).toEqual(['rim_conflict']);
    expect(codes(await verifyGpuEvidence({ ...input, rims: [driver, driver, vbios] }))).toEqual([
      'rim_conflict',
    ]);
    const other = loadGpuSet('hopper-test-no-gpu-nvtrust').input;
    const r = await verifyGpuEvidence({ ...other, rims: [driver, vbios] });
    expect(codes(r)).toEqual(['rim_malformed', 'rim_malformed']);
  });

  it('refuses shapes that invite signature wrapping or entity tricks', async () => {
    const { input, vbios, driverXml } = setUp();
    const sigStart = driverXml.indexOf('<ds:Signature ');
    const signature = driverXml.slice(sigStart, driverXml.indexOf('</SoftwareIdentity>'));
    const cases: [string, RegExp][] = [
      // A second Signature (a copy inside Payload).
      [driverXml.replace('</ns0:Payload>', `${signature}</ns0:Payload>`), /exactly one ds:Signature/],
      // The Signature moved under Payload.
      [
        driverXml.replace(signature, '').replace('</ns0:Payload>', `${signature}</ns0:Payload>`),
        /exactly one ds:Signature, a child of the root/,
      ],
      // A Reference to an Id instead of the whole document.
      [driverXml.replace('<ds:Reference URI="">', '<ds:Reference URI="#x">'), /URI=""/],
      // Another transform list.
      [
        driverXml.replace(/<ds:Transform Algorithm="http:\/\/www.w3.org\/2006\/12\/xml-c14n11"\/>/, ''),
        /Transforms must hold/,
      ],
      [`<!DOCTYPE x [<!ENTITY e "x">]>${driverXml}`, /DOCTYPE|one root element/],
      [driverXml.replace('<ns0:Payload', '<!-- c --><ns0:Payload'), /node type 8/],
      [driverXml.replace('<ns0:Entity ', '<ns0:Entity xml:id="a" '), /xml: namespace/],
      [driverXml.replace('active="False"', 'active="false"'), /active="false"/],
      [driverXml.slice(0, -40), /does not parse/],
    ];
    for (const [xml, message] of cases) {
      const r = await verifyGpuEvidence({ ...input, rims: [enc.encode(xml), vbios] });
      expect(codes(r), String(message)).toEqual(['rim_malformed']);
      expect(r.violations[0]!.message).toMatch(message);
    }
  });
});
