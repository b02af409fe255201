/**
 * Certificate bytes as they arrive (DER from an extended report, KDS `/vcek` or PCS; PEM from KDS
 * `cert_chain`, Azure's THIM, an issuer-chain header, or a file) → DER. Decoding only: signatures
 * and validity are the verifiers' job. PEM per RFC 7468 §2, strict: only whitespace between blocks.
 */
import { fromBase64, isBytes, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { readTlv, TAG_SEQUENCE } from './der.js';

function bad(message: string, cause?: unknown): SealgateError {
  return new SealgateError('malformed_certificate', `certificate: ${message}`, undefined, { cause });
}

/** `der` must be exactly one DER SEQUENCE (an X.509 Certificate's outer shape). */
function checkOuterDer(der: Uint8Array): void {
  let tlv: ReturnType<typeof readTlv>;
  try {
    tlv = readTlv(der, 0, 'certificate');
  } catch (e) {
    throw bad('not a DER SEQUENCE', e);
  }
  if (tlv.tag !== TAG_SEQUENCE) throw bad('not a DER SEQUENCE');
  if (tlv.end !== der.length) throw bad(`${der.length - tlv.end} trailing bytes after the DER SEQUENCE`);
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;

function pemBlocks(bytes: Uint8Array): Uint8Array[] {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (e) {
    throw bad('expected DER or a PEM CERTIFICATE block', e);
  }
  const blocks: Uint8Array[] = [];
  let last = 0;
  for (const m of text.matchAll(PEM_BLOCK)) {
    // Only whitespace may stand between blocks (RFC 7468 §2 allows explanatory text; we do not:
    // these inputs come from machines).
    if (text.slice(last, m.index).trim() !== '') throw bad('unexpected text outside PEM blocks');
    last = m.index + m[0].length;
    const body = (m[1] ?? '').replace(/[\r\n\t ]/g, '');
    if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
      throw bad('PEM body is not valid base64');
    }
    const der = fromBase64(body);
    checkOuterDer(der);
    blocks.push(der);
  }
  if (blocks.length === 0) throw bad('expected DER or a PEM CERTIFICATE block');
  if (text.slice(last).trim() !== '') throw bad('unexpected text outside PEM blocks');
  return blocks;
}

/** Every certificate in `bytes`: one DER certificate, or one or more PEM CERTIFICATE blocks in order. */
export function decodeCertificates(bytes: Uint8Array): Uint8Array[] {
  if (!isBytes(bytes)) throw new SealgateError('invalid_argument', 'certificate: expected a Uint8Array');
  if (bytes.length === 0) throw bad('empty input');
  if (bytes[0] === TAG_SEQUENCE) {
    checkOuterDer(bytes);
    return [bytes.slice()];
  }
  return pemBlocks(bytes);
}

/** Exactly one certificate, DER or PEM → DER (a copy). */
export function decodeCertificate(bytes: Uint8Array): Uint8Array {
  const all = decodeCertificates(bytes);
  if (all.length !== 1) throw bad(`expected one certificate, got ${all.length}`);
  return all[0]!;
}
