/**
 * The verification page's HTML (docs/verifiability.md "The page at /"): server-rendered, no script,
 * no framework, no external resource. Every value that comes from outside this file — manifest
 * fields, evidence, certificate fields, the service's worker list — passes through `esc` (HTML
 * text and attribute escaping, the five characters of the HTML spec's "escapable" set); nothing is
 * interpolated raw. Pure: takes a view model, returns a string.
 */
import type { GpuSummary } from '../../attestation/gpu-summary.js';

export function esc(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export type PageVerdict = 'verified' | 'verified-simulated' | 'not-verified' | 'no-verdict';

export interface PageMeasurement {
  label: string;
  actual: string | null;
  expected: string[];
  ok: boolean;
}

export interface PageTcb {
  component: string;
  reported: number | null;
  minimum: number | null;
  ok: boolean;
}

export interface PageWorker {
  serialNumber: string;
  measurement: string;
  allowed: boolean;
  notBefore: string;
  notAfter: string;
  simulated: boolean;
  /** SHA-256 of its attested configuration (where it sends prompts; docs/protocol.md). */
  configDigest: string;
  /** Its GPUs as its certificate states them (docs/protocol.md "GPU evidence"). */
  gpus: readonly GpuSummary[];
}

export interface PageKey {
  kid: string;
  notBefore: string;
  notAfter: string;
  confirmed: boolean;
}

export interface PageTdx {
  tcbStatus: string;
  allowedStatuses: string[];
  advisoryIds: string[];
  tdxModule: string | null;
  rtmrs: string[];
  fmspc: string;
}

export interface PageModel {
  verdict: PageVerdict;
  verdictDetail: string;
  simulated: boolean;
  /** The service's TEE as its evidence says (without evidence: as the manifest allows it); the banner names it. */
  tee: 'AMD SEV-SNP' | 'Intel TDX' | null;
  manifestName: string;
  manifestDigest: string;
  earStatus: string | null;
  nonce: string | null;
  product: string | null;
  rootSha256: string | null;
  violations: string[];
  service: PageMeasurement | null;
  tcb: PageTcb[];
  /** A TD's claims when the service runs on Intel TDX and its quote verified; else null. */
  tdx: PageTdx | null;
  workers: PageWorker[] | null;
  keys: PageKey[];
  lastServiceAttestation: string | null;
  nextRotation: string | null;
  history: { seq: number; manifestDigest: string; firstServedAt: string }[];
  generatedAt: string;
}

const VERDICT_TEXT: Record<PageVerdict, string> = {
  verified: 'VERIFIED',
  'verified-simulated': 'VERIFIED — ON SIMULATED HARDWARE',
  'not-verified': 'NOT VERIFIED',
  'no-verdict': 'NO VERDICT',
};

const mark = (ok: boolean) =>
  ok ? '<span class="ok">✔ matches</span>' : '<span class="bad">✘ does not match</span>';

function rows(list: string[]): string {
  return list.join('\n');
}

function serviceRow(m: PageModel): string {
  return m.service
    ? `<tr><th>${esc(m.service.label)}</th><td><code data-testid="service-measurement">${esc(m.service.actual ?? '—')}</code></td><td>${rows(
        m.service.expected.map((e) => `<code>${esc(e)}</code>`),
      )}</td><td>${mark(m.service.ok)}</td></tr>`
    : '<tr><td colspan="4">no evidence</td></tr>';
}

/** The SEV-SNP TCB against the manifest's minimum; a TD has its own (tdxSection), so none here. */
function snpTcbSection(m: PageModel): string {
  if (m.tee === 'Intel TDX') return '';
  return `<h2>TCB (reported against the manifest's minimum)</h2>
<table id="tcb"><tr><th>component</th><th>reported</th><th>minimum</th><th></th></tr>
${tcbRows(m)}
</table>
`;
}

function tdxSection(m: PageModel): string {
  if (!m.tdx) return '';
  const t = m.tdx;
  const ok = t.allowedStatuses.includes(t.tcbStatus);
  return `<h2>Intel TDX</h2>
<table id="tdx">
<tr><th>TCB status (Intel's algorithm)</th><td data-testid="tdx-tcb-status">${esc(t.tcbStatus)}</td><td>allowed: ${esc(t.allowedStatuses.join(', '))}</td><td>${ok ? '<span class="ok">✔ allowed</span>' : '<span class="bad">✘ not allowed</span>'}</td></tr>
<tr><th>advisories</th><td colspan="3">${esc(t.advisoryIds.length ? t.advisoryIds.join(', ') : 'none')}</td></tr>
<tr><th>TDX module</th><td colspan="3">${esc(t.tdxModule ?? '—')} (FMSPC <code>${esc(t.fmspc)}</code>)</td></tr>
${t.rtmrs.map((r, i) => `<tr><th>RTMR${i}</th><td colspan="3"><code>${esc(r)}</code></td></tr>`).join('\n')}
</table>`;
}

function tcbRows(m: PageModel): string {
  return m.tcb
    .map(
      (t) =>
        `<tr><th>${esc(t.component)}</th><td>${esc(t.reported ?? '—')}</td><td>${esc(t.minimum ?? '—')}</td><td>${
          t.ok
            ? '<span class="ok">✔ at least the minimum</span>'
            : '<span class="bad">✘ below the minimum</span>'
        }</td></tr>`,
    )
    .join('\n');
}

/** One line per attested GPU: architecture, driver, VBIOS, and the measurements' digest. */
function gpuCell(gpus: readonly GpuSummary[]): string {
  if (gpus.length === 0) return 'none';
  return gpus
    .map(
      (g, i) =>
        `GPU ${i}: ${esc(g.architecture)}, driver ${esc(g.driverVersion)}, VBIOS ${esc(g.vbiosVersion)}, measurements <code>${esc(g.measurementsSha256.slice(0, 16))}…</code>`,
    )
    .join('<br>');
}

function workersTable(m: PageModel): string {
  return m.workers === null
    ? '<p>The attestation service did not list its workers.</p>'
    : m.workers.length === 0
      ? '<p>No worker is attested at the moment.</p>'
      : `<table id="workers"><tr><th>certificate serial</th><th>measurement</th><th>manifest</th><th>configuration digest</th><th>GPUs</th><th>valid</th></tr>${m.workers
          .map(
            (w) =>
              `<tr><td><code>${esc(w.serialNumber)}</code></td><td><code>${esc(w.measurement)}</code></td><td>${mark(
                w.allowed,
              )}${w.simulated ? ' <strong class="bad">SIMULATED</strong>' : ''}</td><td><code>${esc(w.configDigest)}</code></td><td>${gpuCell(w.gpus)}</td><td>${esc(w.notBefore)} → ${esc(w.notAfter)}</td></tr>`,
          )
          .join('\n')}</table>`;
}

function keysTable(m: PageModel): string {
  return m.keys.length === 0
    ? '<p>No key yet.</p>'
    : `<table id="keys"><tr><th>key id</th><th>generated for</th><th>retired after</th><th>held by the service</th></tr>${m.keys
        .map(
          (k) =>
            `<tr><td><code>${esc(k.kid)}</code></td><td>${esc(k.notBefore)}</td><td>${esc(k.notAfter)}</td><td>${
              k.confirmed ? 'confirmed' : 'not yet confirmed'
            }</td></tr>`,
        )
        .join('\n')}</table>`;
}

function historyList(m: PageModel): string {
  return `<ol id="history" start="0">${m.history
    .map((h) => `<li><code>${esc(h.manifestDigest)}</code> first served ${esc(h.firstServedAt)}</li>`)
    .join('\n')}</ol>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#111;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:1rem 1.5rem}
.simulated{background:#b00020;color:#fff;font-size:1.4rem;font-weight:800;text-align:center;padding:1rem;letter-spacing:.04em}
.verdict{font-size:2rem;font-weight:800;padding:.6rem 1rem;border-radius:.4rem;display:inline-block}
.verdict.verified{background:#d7f5dc;color:#0a5a1c}.verdict.verified-simulated{background:#fff1c2;color:#7a4b00}
.verdict.not-verified,.verdict.no-verdict{background:#ffd6d6;color:#8a0010}
.ok{color:#0a5a1c;font-weight:600}.bad{color:#b00020;font-weight:700}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
code{font-size:.8rem;word-break:break-all}
.chain{font-weight:600}`;

export function renderVerificationPage(m: PageModel): string {
  const banner = m.simulated
    ? `<div id="simulated-banner" class="simulated" role="alert">SIMULATED HARDWARE — this stack runs on a software simulator of ${esc(m.tee ?? 'confidential-computing hardware')}. Nothing here is protected by hardware. For development only.</div>`
    : '';
  const violations = m.violations.length
    ? `<p>Failed checks: ${m.violations.map((v) => `<code>${esc(v)}</code>`).join(', ')}</p>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sealgate — verification</title>
<style>
${STYLE}
</style>
</head>
<body>
${banner}
<main>
<h1>Sealgate verification</h1>
<p id="verdict" class="verdict ${esc(m.verdict)}" data-verdict="${esc(m.verdict)}">${esc(VERDICT_TEXT[m.verdict])}</p>
<p>${esc(m.verdictDetail)}</p>
${violations}
<p class="chain">Chain of trust: manifest <code>${esc(m.manifestDigest.slice(0, 16))}…</code> → attestation service (hardware evidence, checked now for nonce <code>${esc(m.nonce ?? '—')}</code>) → AI workers (certificates signed by the attested service)</p>

<h2>Manifest</h2>
<p>“${esc(m.manifestName)}”, digest <code id="manifest-digest">${esc(m.manifestDigest)}</code>. EAR status: <strong id="ear-status">${esc(m.earStatus ?? 'none')}</strong> (signed; key at <a href="/.well-known/jwks.json">/.well-known/jwks.json</a>).</p>

<h2>Attestation service: measurement against the manifest</h2>
<table id="service"><tr><th></th><th>reported by the hardware</th><th>allowed by the manifest</th><th></th></tr>
${serviceRow(m)}
</table>
<p>Product ${esc(m.product ?? '—')}, root certificate SHA-256 <code>${esc(m.rootSha256 ?? '—')}</code>.</p>

${snpTcbSection(m)}${tdxSection(m)}

<h2>AI workers attested by the service</h2>
${workersTable(m)}

<h2>Keys</h2>
<p>Last verified attestation of the service by the key-rotation: ${esc(m.lastServiceAttestation ?? 'none yet')}; next rotation check: ${esc(m.nextRotation ?? 'not scheduled')}.</p>
${keysTable(m)}

<h2>Manifest history (hash-chained)</h2>
${historyList(m)}

<h2>Check it yourself</h2>
<p>Do not take this page's word for it: <code>npm run --silent sealgate -- verify-endpoint URL --manifest your-pinned-manifest.json</code> (first time: <code>--save-manifest FILE</code>; on simulated hardware add <code>--allow-simulated</code>) attests the service with your own nonce and verifies everything on your machine. Raw data: <a href="/v1/attestation">/v1/attestation</a>, <a href="/v1/manifest">/v1/manifest</a>.</p>
<p><small>Generated ${esc(m.generatedAt)}.</small></p>
</main>
</body>
</html>
`;
}
