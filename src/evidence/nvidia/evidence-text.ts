/**
 * Evidence as NVIDIA's tools hand it over: the raw report bytes, or the same bytes as hex text
 * (nvtrust's samples, trustee's test data, `nvidia-smi conf-compute` output), with optional
 * whitespace. A raw report starts with SPDMVersion 0x11, which is not a hex digit, so the two
 * cannot be confused.
 */
import { SealgateError } from '../../errors.js';

/** ASCII 0-9, A-F, a-f, and whitespace: how hex text can begin; 0x11 (a raw report) is none of them. */
function isHexTextStart(b: number | undefined): boolean {
  if (b === undefined) return false;
  const c = String.fromCharCode(b);
  return /[0-9a-fA-F\s]/.test(c);
}

/** Bytes of the report: `input` itself, or `input` hex-decoded when it is hex text. */
export function gpuEvidenceBytes(input: Uint8Array): Uint8Array {
  if (!isHexTextStart(input[0])) return input;
  const text = new TextDecoder('ascii').decode(input).replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(text) || text.length % 2 !== 0) {
    throw new SealgateError(
      'malformed_evidence',
      'GPU evidence: hex text with a non-hex character or an odd length',
      {
        field: 'hex',
      },
    );
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
