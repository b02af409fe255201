/**
 * The ablations of bench/macro/ablate-gateway.ts: each replaces modules of the real gateway, in its
 * esbuild bundle only, by the stand-ins in this folder (each stand-in re-exports its module and
 * shadows one function; the bundle's other importers get the stand-in, the stand-in the original).
 * Production code knows nothing of them.
 */
import { dirname, join, resolve } from 'node:path';
import type { Plugin } from 'esbuild';

const root = join(import.meta.dirname, '../../..');
const here = import.meta.dirname;

export interface Ablation {
  name: string;
  /** What the ablation removes (or, for `×2`, adds a second time) from a sealed JSON request. */
  removes: string;
  /** Module of src/ → stand-in file of this folder. */
  swaps: Record<string, string>;
}

const ONE: Ablation[] = [
  {
    name: 'receipt-sig',
    removes: "the receipt's ES256 verify (crypto.subtle.verify)",
    swaps: { 'src/receipts/receipt.ts': 'receipt-signature.ts' },
  },
  {
    name: 'receipt',
    removes: 'the whole receipt: certificate lookup, answer SHA-256, JWS parse and verify, kept receipt',
    swaps: { 'src/gateway/sealing/receipt-check.ts': 'receipt-check.ts' },
  },
  {
    name: 'apikey',
    removes: "the API key's SHA-256 and the development key's comparison",
    swaps: { 'src/gateway/kv/api-keys.ts': 'api-keys.ts' },
  },
  {
    name: 'read',
    removes: "the request body's read in JavaScript (read whole by the runtime instead)",
    swaps: { 'src/http/read-limited.ts': 'read-limited.ts' },
  },
  {
    name: 'shape',
    removes: 'the walk of the parsed request body (depth, finite numbers)',
    swaps: { 'src/http/json-depth.ts': 'json-depth.ts' },
  },
  {
    name: 'body',
    removes: 'the whole body check: JS read, fatal UTF-8 decode, shape walk (request.json() instead)',
    swaps: { 'src/gateway/routes/sealed/read-json-body.ts': 'read-json-body.ts' },
  },
  {
    name: 'open',
    removes: "everything after the worker's answer arrived: read, receipt, decrypt, parse, stringify",
    swaps: { 'src/gateway/sealing/upstream.ts': 'upstream.ts' },
  },
  {
    name: 'answer-read',
    removes: 'as `open`, but the answer still read whole into JavaScript and sent on as bytes',
    swaps: { 'src/gateway/sealing/upstream.ts': 'upstream-bytes.ts' },
  },
  {
    name: 'decrypt',
    removes: "the answer's opening (HKDF, AES-GCM open, JSON parse) and its re-serialisation",
    swaps: { 'src/envelope/response.ts': 'open-response.ts' },
  },
  {
    name: 'signal',
    removes: "the client request's AbortSignal on the fetch to the worker",
    swaps: { 'src/gateway/sealing/upstream.ts': 'exchange-no-signal.ts' },
  },
  {
    name: 'hono',
    removes: 'Hono and every middleware (CORS, route check, header copies): one plain function',
    swaps: { 'src/gateway/app.ts': 'app.ts' },
  },
  {
    name: 'gateway-passthrough',
    removes: "all but the isolate: the gateway's app built, each request served as the passthrough",
    swaps: { 'src/gateway/app.ts': 'app-passthrough.ts' },
  },
  {
    name: 'seal×8',
    removes: '(adds) 7 more sealings of the request: Δ / 7 is one sealing in place',
    swaps: { 'src/envelope/request.ts': 'seal-repeat.ts' },
  },
  {
    name: 'open×8',
    removes: '(adds) 7 more openings of the answer: Δ / 7 is one opening in place',
    swaps: { 'src/envelope/response.ts': 'open-repeat.ts' },
  },
  {
    name: 'receipt×8',
    removes: "(adds) 7 more checks of the answer's receipt: Δ / 7 is one check in place",
    swaps: { 'src/gateway/sealing/receipt-check.ts': 'receipt-repeat.ts' },
  },
  {
    name: 'apikey×8',
    removes: '(adds) 7 more acceptances of the API key: Δ / 7 is one in place',
    swaps: { 'src/gateway/kv/api-keys.ts': 'api-keys-repeat.ts' },
  },
  {
    name: 'stream-relay',
    removes: "a stream's whole relay: reads, opening, event checks, SSE out, stream hash, receipt",
    swaps: { 'src/gateway/sealing/stream-answer.ts': 'stream-native.ts' },
  },
  {
    name: 'chat-check',
    removes: 'the JSON.parse of each verified chat event (stream-end.ts isChatChunk)',
    swaps: { 'src/api/stream-end.ts': 'chat-check.ts' },
  },
  {
    name: 'event-utf8',
    removes: 'the per-byte UTF-8 and CR check of each verified event (stream-events.ts)',
    swaps: { 'src/envelope/stream-events.ts': 'stream-events.ts' },
  },
  {
    name: 'read-alloc×8',
    removes: '(adds) 7 fresh 64 KiB buffers per read: Δ / 7 is one fresh buffer for every read',
    swaps: { 'src/http/chunk-reader.ts': 'chunk-reader-alloc-repeat.ts' },
  },
  {
    name: 'chat-check×8',
    removes: "(adds) 7 more JSON checks of each verified chat event: Δ / 7 is all of a stream's checks",
    swaps: { 'src/api/stream-end.ts': 'chat-check-repeat.ts' },
  },
];

/** All removals at once: what is left is configuration, key, sealing and the one fetch. */
const FLOOR: Ablation = {
  name: 'floor',
  removes: 'hono + apikey + body + open together',
  swaps: Object.assign(
    {},
    ...['hono', 'apikey', 'body', 'open'].map((n) => ONE.find((a) => a.name === n)!.swaps),
  ),
};

export const ABLATIONS: readonly Ablation[] = [...ONE, FLOOR];

/** The esbuild plugin that makes `ablation`'s swaps in a bundle of the gateway. */
export function swapPlugin(ablation: Ablation): Plugin {
  const swaps = new Map(
    Object.entries(ablation.swaps).map(([module, standIn]) => [join(root, module), join(here, standIn)]),
  );
  // A stand-in imports its own original; any other import of a swapped module gets the stand-in.
  const originalOf = new Map([...swaps].map(([module, standIn]) => [standIn, module]));
  const used = new Set<string>();
  return {
    name: `ablate-${ablation.name}`,
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = resolve(dirname(args.importer), args.path.replace(/\.js$/, '.ts'));
        if (originalOf.get(args.importer) === target) return undefined;
        const standIn = swaps.get(target);
        if (standIn === undefined) return undefined;
        used.add(target);
        return { path: standIn };
      });
      build.onEnd(() => {
        // A swap that matched no import measured nothing: fail rather than report a false zero.
        const unused = [...swaps.keys()].filter((m) => !used.has(m));
        if (unused.length > 0) throw new Error(`ablation ${ablation.name}: nothing imports ${unused}`);
      });
    },
  };
}
