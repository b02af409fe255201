/**
 * The certificate table an SEV-SNP guest receives with an extended report (SNP_GET_EXT_REPORT, or
 * configfs-tsm's `auxblob`): GHCB specification (AMD pub. 56421) §4.1.8.1 "SNP Extended Guest
 * Request", Table "Certificate table entry": a sequence of { GUID (16 bytes, RFC 4122 byte order),
 * offset (u32 LE, from the start of the table), length (u32 LE) } entries ended by an all-zero
 * entry, followed by the certificates themselves. Pure byte parsing; the bytes are the host's, so
 * every offset and length is checked against the blob before it is used.
 */
import { concatBytes, isAllZero, toHex } from '../../bytes.js';
import { SealgateError } from '../../errors.js';

/** GUIDs defined by the GHCB specification for the certificate table. */
export const CERT_TABLE_GUIDS = {
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  crl: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea',
} as const;

export type CertTableKind = keyof typeof CERT_TABLE_GUIDS;

export interface CertTable {
  ark?: Uint8Array;
  ask?: Uint8Array;
  vcek?: Uint8Array;
  vlek?: Uint8Array;
  crl?: Uint8Array;
  /** Entries with GUIDs this verifier does not know, kept so nothing is silently dropped. */
  other: { guid: string; data: Uint8Array }[];
}

const ENTRY_SIZE = 24;
/** More entries than this is not a table a real host sends (it lists at most a handful). */
const MAX_ENTRIES = 64;

function guidToString(b: Uint8Array): string {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function guidToBytes(guid: string): Uint8Array {
  const hex = guid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const KIND_BY_GUID = new Map<string, CertTableKind>(
  Object.entries(CERT_TABLE_GUIDS).map(([k, g]) => [g, k as CertTableKind]),
);

export function parseCertTable(blob: Uint8Array): CertTable {
  const fail = (message: string, detail?: Record<string, unknown>): never => {
    throw new SealgateError('malformed_evidence', `certificate table: ${message}`, detail);
  };
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const table: CertTable = { other: [] };
  for (let i = 0; ; i++) {
    const at = i * ENTRY_SIZE;
    if (at + ENTRY_SIZE > blob.length) fail('no terminating all-zero entry', { entries: i });
    if (i > MAX_ENTRIES) fail(`more than ${MAX_ENTRIES} entries`);
    const entry = blob.subarray(at, at + ENTRY_SIZE);
    if (isAllZero(entry)) break;
    const guid = guidToString(entry.subarray(0, 16));
    const offset = view.getUint32(at + 16, true);
    const length = view.getUint32(at + 20, true);
    if (length === 0) fail(`entry ${i} (${guid}) is empty`);
    if (offset < (i + 1) * ENTRY_SIZE) fail(`entry ${i} (${guid}) points into the entry list`, { offset });
    if (offset + length > blob.length) {
      fail(`entry ${i} (${guid}) runs past the end: offset ${offset} + length ${length} > ${blob.length}`);
    }
    const data = blob.slice(offset, offset + length);
    const kind = KIND_BY_GUID.get(guid);
    if (kind === undefined) table.other.push({ guid, data });
    else if (table[kind] !== undefined) fail(`entry ${i} repeats ${kind.toUpperCase()}`);
    else table[kind] = data;
  }
  return table;
}

/** The inverse, for the simulator and for tests of the configfs-tsm provider. */
export function serializeCertTable(certs: Partial<Record<CertTableKind, Uint8Array>>): Uint8Array {
  const entries = (Object.keys(CERT_TABLE_GUIDS) as CertTableKind[]).filter((k) => certs[k] !== undefined);
  const header = new Uint8Array((entries.length + 1) * ENTRY_SIZE);
  const view = new DataView(header.buffer);
  let offset = header.length;
  const bodies: Uint8Array[] = [];
  entries.forEach((kind, i) => {
    const data = certs[kind]!;
    header.set(guidToBytes(CERT_TABLE_GUIDS[kind]), i * ENTRY_SIZE);
    view.setUint32(i * ENTRY_SIZE + 16, offset, true);
    view.setUint32(i * ENTRY_SIZE + 20, data.length, true);
    bodies.push(data);
    offset += data.length;
  });
  return concatBytes(header, ...bodies);
}
