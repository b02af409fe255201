/** What each micro figure measures, by its name without runtime prefix, size or backend suffix. */
const DESCRIPTIONS: Record<string, string> = {
  'envelope.sealRequest':
    'sealRequest of a chat body of that size (fresh DEK, AES-KW wrap, HKDF, AES-256-GCM, base64url)',
  'envelope.openRequest':
    'openRequest of the sealed body given as JSON text (JSON.parse, unwrap, HKDF, AES-256-GCM, JSON)',
  'envelope.sealResponse':
    'sealResponse of a chat answer of that size (fresh rs, HKDF, AES-256-GCM, base64url)',
  'stream.sealFrame': 'seal one SSE chunk of that size into a format-3 record',
  'stream.openFrame': 'open one format-3 record (head checks, AES-256-GCM, event bounds, UTF-8 check)',
  'snp.verify.first':
    'the first verifySnpEvidence of a fresh isolate/process (nothing JIT-compiled): one call',
  'snp.verify.cold':
    'verifySnpEvidence on a real Milan report (parse report and VCEK/ASK/ARK, chain to the pinned AMD root, binding, report signature) + evaluateSnp; steady state',
  'snp.verify.chainCached':
    "the same report and VCEK each call, AMD's chain ARK → ASK → VCEK already verified in this isolate (the chain cache: ARK and ASK by the SHA-256 of their DER, the VCEK by its exact bytes): parse report, names, extensions, dates and binding from the cached certificates, report signature, evaluateSnp — what a verifier pays for a report of a chip and TCB it has verified before",
  'snp.verify.newVcek':
    "the same report, AMD's ARK → ASK already verified in this isolate but the VCEK not (the chain cache's leaf entries hidden): parse report and VCEK, VCEK signature under the ASK, binding, report signature, evaluateSnp — what a new chip or TCB of a known product costs (in Node the signature backend still serves the VCEK's imported key, ~30 µs, by its SPKI)",
  'snp.cold.parseCertificates': 'stage of cold: parse the three certificates',
  'snp.cold.verifyChain': 'stage of cold: chain checks on parsed certificates (RSA-PSS-SHA384, 4096-bit)',
  'snp.cold.reportSignature': 'stage of cold: import the VCEK key, verify the report signature (ECDSA P-384)',
  'snp.verify.warm':
    'warm re-verification: chain already verified and the VCEK key imported; parse the report, verify its signature, evaluateSnp',
  'snp.verdict.kv':
    'warm, the KV-cached verdict: read att:<digest>:current and att:<digest>:<nonce> from KV, parse, check expiry',
  'gateway.keys.kvRefresh':
    "the request path's key refresh (at most every 30 s per isolate): read keys:<digest>, unwrap the KEK at rest, KeyRing",
  'receipt.sign': 'the worker signs one answer’s receipt: JCS header and claims, SHA-256 thumbprint, ES256',
  'receipt.check':
    'the gateway checks one answer’s receipt: strict parse, thumbprint, ES256 verify (worker key imported once)',
  'policy.evaluateSnp': 'evaluateSnp of verified claims, every rule in play',
  'tdx.verify.cold':
    'verifyTdxEvidence on the real phala-v4 quote, nothing cached: quote and QE report signatures, PCK chain, TCB info and QE identity with their issuer chains, both CRLs, TCB status',
  'tdx.verify.cached':
    "the same quote with Intel's chains, collateral and CRLs verified before in the isolate (TdxVerifyCache): quote and QE report signatures, QE binding, every date, revocation lookups, TCB status",
  'tdx.verify.vsDcapQvl':
    'verifyTdxEvidence, nothing cached; baseline: @phala/dcap-qvl 0.3.9 verify() of the same quote and collateral, same process, rounds interleaved (wall time)',
  'tdx.verify.cached.vsDcapQvl':
    'verifyTdxEvidence with TdxVerifyCache warm; baseline: @phala/dcap-qvl 0.3.9, as above (wall time)',
  'tdx.verify.cpu.vsDcapQvl':
    'as tdx.verify.vsDcapQvl, CPU time of the whole process (WebCrypto thread pool included) per call',
  'tdx.verify.cached.cpu.vsDcapQvl': 'as tdx.verify.cached.vsDcapQvl, CPU time of the whole process per call',
  'aes-gcm.webcrypto': 'AES-256-GCM encrypt, WebCrypto, key imported once',
  'aes-gcm.noble': 'AES-256-GCM encrypt, @noble/ciphers gcm',
  'floor.hkdf-sha256': 'floor: one HKDF-SHA256 derivation of 32 bytes (IKM imported once)',
  'floor.ecdsa-p256.verify': 'floor: one ECDSA P-256 verify (what receipt.check cannot go below)',
  'floor.ecdsa-p256.sign': 'floor: one ECDSA P-256 signature (what receipt.sign cannot go below)',
  'floor.aes-kw.wrap': 'floor: one AES-KW wrap of a fresh 32-byte key (generate, wrap; KEK imported once)',
  'floor.aes-kw.unwrap': 'floor: one AES-KW unwrap of a 32-byte key (what opening a request cannot go below)',
  'floor.aes-gcm': 'floor: AES-256-GCM encrypt of that size, key made once',
  'floor.ecdsa-p384.verify': 'floor: one ECDSA P-384 verify (the report signature of every snp.verify.*)',
  'floor.rsa4096-pss.verify':
    'floor: one RSA-4096 PSS-SHA384 verify (AMD signs ASK and VCEK so: ×2 cold, ×1 with a new VCEK, ×0 chain cached)',
  'snp.verify.cold.vsTinfoil':
    'ours (verifySnpEvidence + evaluateSnp) on genoa-v3-azure-trustee, nothing cached; baseline: @tinfoilsh/verifier 1.1.0 on the same report in this process (TSME relaxed; it caches nothing)',
  'snp.verify.chainCached.vsTinfoil':
    'ours with AMD’s chain ARK → ASK → VCEK already verified (chain cache), wall time; baseline: @tinfoilsh/verifier 1.1.0 as above',
  'snp.verify.newVcek.vsTinfoil':
    'ours with AMD’s ARK → ASK already verified but not the VCEK (a new chip or TCB), wall time; baseline: @tinfoilsh/verifier 1.1.0 as above',
  'snp.verify.chainCached.vsFloor':
    'ours with the chain cached (snp.genoa.verify.chainCached); baseline: the signature check it cannot skip alone (report ECDSA P-384; node:crypto, key made once), timed in the same interleaved rounds',
  'snp.verify.newVcek.vsFloor':
    'ours with a new VCEK (snp.genoa.verify.newVcek); baseline: its two signature checks alone (report ECDSA P-384, VCEK RSA-PSS; node:crypto, keys made once), timed in the same interleaved rounds',
  'snp.verify.cold.cpu.vsTinfoil':
    'as snp.verify.cold.vsTinfoil, CPU time of the whole process (thread pool included: their WebCrypto calls run there) per call',
  'snp.verify.chainCached.cpu.vsTinfoil':
    'as snp.verify.chainCached.vsTinfoil, CPU time of the whole process (thread pool included) per call',
  'snp.verify.newVcek.cpu.vsTinfoil':
    'as snp.verify.newVcek.vsTinfoil, CPU time of the whole process (thread pool included) per call',
  'gpu.verify.cold':
    "verifyGpuEvidence on a real Hopper report: parse the SPDM evidence and the five-certificate device chain, verify it to NVIDIA's pinned root (ECDSA P-384 ×5), FWID binding, SPDM signature (ECDSA P-384), nonce",
  'gpu.verify.chainCached':
    'the same report with its device chain already verified in this isolate (cache keyed by the SHA-256 of the chain bytes; roots and dates re-checked)',
  'snp.genoa.verify.cold': 'snp.verify.cold on the Genoa set the peer is compared on',
  'snp.genoa.verify.chainCached': 'snp.verify.chainCached on the Genoa set the peer is compared on',
  'snp.genoa.verify.newVcek': 'snp.verify.newVcek on the Genoa set the peer is compared on',
  'snp.genoa.verify.floor':
    'the signature check of snp.genoa.verify.chainCached alone (the report’s P-384), in the same interleaved rounds',
  'snp.genoa.verify.newVcekFloor':
    'the two signature checks of snp.genoa.verify.newVcek alone, in the same interleaved rounds',
  'tinfoil.snp.verify':
    '@tinfoilsh/verifier 1.1.0: parse report, ARK, ASK, VCEK; chain; report signature; validateReport (TSME relaxed)',
};

const COLD_STEP = /^envelope\.coldStep\.(unwrap|hkdf|gcmOpen)\.idle(\d+)ms$/;
const COLD_STEP_WHAT: Record<string, string> = {
  unwrap: 'AES-KW unwrap of the DEK',
  hkdf: 'HKDF-SHA256 of the request key',
  gcmOpen: 'AES-256-GCM open of a 4 KiB body',
};

export function describe(name: string): string {
  const cold = COLD_STEP.exec(name.replace(/^(workerd|node)\./, ''));
  if (cold) {
    return `${COLD_STEP_WHAT[cold[1]!]} (the AI worker's node:crypto backend) after the thread slept ${cold[2]} ms, as a request that comes alone finds it (bench/micro/cold-steps.ts); baseline: the same step back to back`;
  }
  const backend = !name.endsWith('.nodeCrypto')
    ? ''
    : name.includes('.floor.')
      ? ' — node:crypto; baseline: the WebCrypto floor in Node, where there is one'
      : ' — node:crypto backend (AI worker); baseline: WebCrypto in Node';
  const bare = name
    .replace(/^(workerd|node)\./, '')
    .replace(/\.nodeCrypto$/, '')
    .replace(/\.(4KiB|64KiB|1MiB|100B|1KiB)$/, '');
  return `${DESCRIPTIONS[bare] ?? ''}${backend}`;
}
