/**
 * The SIMULATED HARDWARE banner of the verification page names the TEE that is simulated: the one
 * the service's evidence comes from (page-model.ts `teeOf`), or a neutral word when it is not known.
 */
import { describe, expect, it } from 'vitest';
import { type PageModel, renderVerificationPage } from '../../src/gateway/page/verification-html.js';
import { pageModel } from './page-model-fixture.js';

function model(simulated: boolean, tee: PageModel['tee']): PageModel {
  return pageModel({ verdict: simulated ? 'verified-simulated' : 'verified', simulated, tee });
}

const banner = (html: string) => /<div id="simulated-banner"[^>]*>([^<]*)<\/div>/.exec(html)?.[1];

describe('verification page: the simulator banner', () => {
  it('names Intel TDX for a simulated TD, never AMD SEV-SNP', () => {
    const html = renderVerificationPage(model(true, 'Intel TDX'));
    expect(banner(html)).toContain('this stack runs on a software simulator of Intel TDX.');
    expect(html).not.toContain('SEV-SNP');
  });

  it('names AMD SEV-SNP for a simulated SEV-SNP guest', () => {
    expect(banner(renderVerificationPage(model(true, 'AMD SEV-SNP')))).toContain(
      'a software simulator of AMD SEV-SNP.',
    );
  });

  it('names no vendor when the TEE is not known, and shows no banner on hardware', () => {
    expect(banner(renderVerificationPage(model(true, null)))).toContain(
      'a software simulator of confidential-computing hardware.',
    );
    expect(banner(renderVerificationPage(model(false, 'Intel TDX')))).toBeUndefined();
  });
});

describe('verification page: the TCB tables', () => {
  it('shows the SEV-SNP TCB table for an SEV-SNP service, not for a TD (it has the TDX table)', () => {
    expect(renderVerificationPage(model(false, 'AMD SEV-SNP'))).toContain('<table id="tcb">');
    expect(renderVerificationPage(model(false, null))).toContain('<table id="tcb">');
    expect(renderVerificationPage(model(false, 'Intel TDX'))).not.toContain('<table id="tcb">');
  });
});
