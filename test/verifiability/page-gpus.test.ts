/** The verification page shows each attested worker's GPUs as its certificate states them, escaped. */
import { describe, expect, it } from 'vitest';
import { type PageModel, renderVerificationPage } from '../../src/gateway/page/verification-html.js';
import { pageModel } from './page-model-fixture.js';

const gpu = {
  architecture: 'hopper',
  driverVersion: '550.90.07',
  vbiosVersion: '96.00.9f.00.01',
  fwid: null,
  leafSha256: 'aa'.repeat(32),
  rootSha256: 'bb'.repeat(32),
  measurementsSha256: 'cc'.repeat(32),
};

function model(gpus: (typeof gpu)[]): PageModel {
  return pageModel({
    workers: [
      {
        serialNumber: '01',
        measurement: 'ee'.repeat(48),
        allowed: true,
        notBefore: '2026-01-01T00:00:00.000Z',
        notAfter: '2026-01-01T00:15:00.000Z',
        simulated: true,
        configDigest: 'ff'.repeat(32),
        gpus,
      },
    ],
  });
}

describe('verification page: GPUs column', () => {
  it('lists each GPU with driver, VBIOS and its measurements digest', () => {
    const html = renderVerificationPage(model([gpu, { ...gpu, driverVersion: '<b>x</b>' }]));
    expect(html).toContain('<th>GPUs</th>');
    expect(html).toContain(
      'GPU 0: hopper, driver 550.90.07, VBIOS 96.00.9f.00.01, measurements <code>cccccccccccccccc…</code>',
    );
    expect(html).toContain('GPU 1: hopper, driver &lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<b>x</b>');
  });

  it('says none for a worker without GPUs', () => {
    expect(renderVerificationPage(model([]))).toMatch(/<td>none<\/td>/);
  });
});
