/** The EAR gets one submodule per GPU of a trusted appraisal, and none for a rejected one. */
import { describe, expect, it } from 'vitest';
import { type Appraisal, earClaims } from '../../src/attestation/ear.js';

const gpu = {
  architecture: 'hopper',
  driverVersion: '550.90.07',
  vbiosVersion: '96.00.9f.00.01',
  measurementsSha256: 'cc'.repeat(32),
};
const base: Appraisal = { trusted: true, simulated: false, violations: [], measurement: 'ab'.repeat(48) };
const claims = (a: Appraisal) =>
  earClaims({ appraisal: a, nonceHex: '00'.repeat(32), manifestDigest: 'dd'.repeat(32), iat: 1 });

describe('EAR: GPU submodules', () => {
  it('one per GPU, in order: affirming for a genuine root, warning for a simulated one', () => {
    const c = claims({
      ...base,
      gpus: [
        { ...gpu, simulated: false },
        { ...gpu, driverVersion: 'x', simulated: true },
      ],
    });
    expect(Object.keys(c.submods)).toEqual(['attestation-service', 'gpu-0', 'gpu-1']);
    expect(c.submods['gpu-0']).toEqual({
      'ear.status': 'affirming',
      'ear.trustworthiness-vector': {
        'instance-identity': 2,
        configuration: 2,
        executables: 3,
        hardware: 2,
        'runtime-opaque': 2,
      },
      'ear.appraisal-policy-id': `sha256:${'dd'.repeat(32)}`,
      'sealgate.simulated': false,
      'sealgate.gpu': gpu,
    });
    expect(c.submods['gpu-1']?.['ear.status']).toBe('warning');
    expect(c.submods['gpu-1']?.['sealgate.gpu'].driverVersion).toBe('x');
  });

  it('none without GPUs, and none when the appraisal was rejected', () => {
    expect(Object.keys(claims(base).submods)).toEqual(['attestation-service']);
    const rejected = claims({
      ...base,
      trusted: false,
      violations: [{ code: 'report_signature_invalid' }],
      gpus: [{ ...gpu, simulated: false }],
    });
    expect(Object.keys(rejected.submods)).toEqual(['attestation-service']);
  });
});
