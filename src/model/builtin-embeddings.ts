/**
 * The built-in model's embeddings: deterministic unit vectors from SHA-256 expansion.
 *
 *   block_i = SHA-256("sealgate/builtin-embedding/v1" ‖ u32be(i) ‖ input)       i = 0, 1, …
 *   raw     = the blocks' bytes read as big-endian int16 values, each / 32768    (16 per block)
 *   vector  = raw[0 : dimensions] / ‖raw[0 : dimensions]‖₂, rounded to float32
 *
 * `input` is the UTF-8 text, or for a token array the text `tokens:` followed by the token ids in
 * decimal joined by `,` (a test model: that such a text and that token array embed alike does not
 * matter). The dimension is not hashed, so a shorter vector
 * is the re-normalised prefix of a longer one — what OpenAI's `dimensions` parameter means for
 * text-embedding-3 ("shortening embeddings").
 *
 * `encoding_format: "base64"` is the float32 little-endian bytes in standard base64 — what the
 * official SDKs request by default and decode (openai-node: `toFloat32Array`).
 */
import { concatBytes, sha256, toBase64, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { countWords } from './builtin-text.js';

export const EMBEDDING_DEFAULT_DIMENSIONS = 256;
export const EMBEDDING_MAX_DIMENSIONS = 3072;
/** OpenAI's limit on the items of an `input` array (API reference: "must be 2048 dimensions or less"). */
export const EMBEDDING_MAX_INPUTS = 2048;
const DST = utf8.encode('sealgate/builtin-embedding/v1');

/** The built-in model's own refusal, written for the API client (sealed to it). */
function invalid(message: string): never {
  throw new SealgateError('invalid_argument', message, undefined, { clientMessage: message });
}

interface EmbeddingInput {
  bytes: Uint8Array;
  tokens: number;
}

function isTokenArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((t) => typeof t === 'number' && Number.isSafeInteger(t) && t >= 0);
}

function textInput(s: string, where: string): EmbeddingInput {
  if (s.length === 0) invalid(`${where} must not be empty`);
  return { bytes: utf8.encode(s), tokens: countWords(s) };
}

function tokenInput(t: number[], where: string): EmbeddingInput {
  if (t.length === 0) invalid(`${where} must not be empty`);
  return { bytes: utf8.encode(`tokens:${t.join(',')}`), tokens: t.length };
}

/** OpenAI's `input`: a string, an array of strings, an array of tokens, or an array of token arrays. */
export function readEmbeddingInputs(input: unknown): EmbeddingInput[] {
  if (typeof input === 'string') return [textInput(input, 'input')];
  if (!Array.isArray(input) || input.length === 0) {
    return invalid('input must be a non-empty string or a non-empty array');
  }
  if (isTokenArray(input)) return [tokenInput(input, 'input')];
  if (input.length > EMBEDDING_MAX_INPUTS) invalid(`input must have at most ${EMBEDDING_MAX_INPUTS} items`);
  return input.map((item, i) => {
    if (typeof item === 'string') return textInput(item, `input[${i}]`);
    if (isTokenArray(item)) return tokenInput(item, `input[${i}]`);
    return invalid(`input[${i}] must be a string or an array of token ids`);
  });
}

export function readDimensions(value: unknown): number {
  if (value === undefined || value === null) return EMBEDDING_DEFAULT_DIMENSIONS;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    invalid(`dimensions must be an integer from 1 to ${EMBEDDING_MAX_DIMENSIONS}`);
  }
  if (value > EMBEDDING_MAX_DIMENSIONS)
    invalid(`dimensions must be an integer from 1 to ${EMBEDDING_MAX_DIMENSIONS}`);
  return value;
}

export function readEncodingFormat(value: unknown): 'float' | 'base64' {
  if (value === undefined || value === null || value === 'float') return 'float';
  if (value === 'base64') return 'base64';
  return invalid('encoding_format must be "float" or "base64"');
}

/** The unit vector for `input` (see the header), as float32 values. */
export async function embed(input: Uint8Array, dimensions: number): Promise<Float32Array> {
  const blocks: Uint8Array[] = [];
  for (let i = 0; i * 16 < dimensions; i++) {
    const counter = new Uint8Array(4);
    new DataView(counter.buffer).setUint32(0, i);
    blocks.push(await sha256(concatBytes(DST, counter, input)));
  }
  const bytes = concatBytes(...blocks);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = new Float64Array(dimensions);
  let sum = 0;
  for (let d = 0; d < dimensions; d++) {
    raw[d] = view.getInt16(2 * d) / 32768;
    sum += raw[d]! * raw[d]!;
  }
  const out = new Float32Array(dimensions);
  if (sum === 0) {
    out[0] = 1; // all-zero prefix: astronomically unlikely, but a unit vector is promised
    return out;
  }
  const norm = Math.sqrt(sum);
  for (let d = 0; d < dimensions; d++) out[d] = raw[d]! / norm;
  return out;
}

/** float32 little-endian bytes, standard base64 (what OpenAI's `encoding_format: "base64"` carries). */
export function float32Base64(vector: Float32Array): string {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < vector.length; i++) view.setFloat32(4 * i, vector[i]!, true);
  return toBase64(bytes);
}
