/**
 * The services' SIMULATED HARDWARE banners (stderr and the first log line) name the TEE simulated:
 * on a simulated Intel TDX stack they say Intel TDX, never SEV-SNP; the SEV-SNP text is unchanged.
 */
import { describe, expect, it } from 'vitest';
import { simulatedBanner as workerBanner } from '../../src/ai-worker/server.js';
import { simulatedBanner as serviceBanner } from '../../src/attestation-service/server.js';

const box = (banner: string) => banner.split('\n').map((l) => l.length);

describe('simulated-hardware banners', () => {
  it('name Intel TDX on a simulated TD, and keep a 72-column box', () => {
    for (const banner of [serviceBanner('tdx'), workerBanner('tdx')]) {
      expect(banner).toContain('runs on the Intel TDX');
      expect(banner).not.toContain('SEV-SNP');
      expect(box(banner)).toEqual([72, 72, 72, 72, 72]);
    }
  });

  it('name SEV-SNP on a simulated SEV-SNP guest', () => {
    expect(serviceBanner('sev-snp')).toContain(
      '*  SIMULATED HARDWARE: this attestation service runs on the SEV-SNP    *',
    );
    expect(workerBanner('sev-snp')).toContain(
      '*  SIMULATED HARDWARE: this AI worker runs on the SEV-SNP simulator.   *',
    );
  });
});
