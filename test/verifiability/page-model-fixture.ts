/** An empty verification page model (a simulated SEV-SNP stack, nothing attested), for page tests to vary. */
import type { PageModel } from '../../src/gateway/page/verification-html.js';

export function pageModel(overrides: Partial<PageModel> = {}): PageModel {
  return {
    verdict: 'verified-simulated',
    verdictDetail: '',
    simulated: true,
    tee: 'AMD SEV-SNP',
    manifestName: 'dev',
    manifestDigest: 'dd'.repeat(32),
    earStatus: null,
    nonce: null,
    product: null,
    rootSha256: null,
    violations: [],
    service: null,
    tcb: [],
    tdx: null,
    workers: [],
    keys: [],
    lastServiceAttestation: null,
    nextRotation: null,
    history: [],
    generatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}
