/**
 * Regenerates envelope-v1.json and hpke-xwing-v1.json:  npx tsx test/vectors/generate.ts
 *
 * Every output is produced twice — by the real code with injected randomness and by the independent
 * reference (reference.ts) — and written only if both agree. Inputs are fixed ramps of bytes so the
 * files never change unless the protocol does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRequest, sealRequest } from '../../src/envelope/request.js';
import { sealResponse } from '../../src/envelope/response.js';
import { createStreamSealer } from '../../src/envelope/stream.js';
import { HPKE_INFO, keyPairFromSeed, sealToPublicKey } from '../../src/keys/hpke.js';
import { createKek, encodeKekRecord } from '../../src/keys/kek.js';
import { sealKek } from '../../src/keys/kek-transport.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import {
  b64u,
  cat,
  fixedRandom,
  hex,
  lp,
  ramp,
  refFrameAad,
  refFrameNonce,
  refGcmSeal,
  refHkdf,
  refHpkeKeySchedule,
  refKid,
  refRequestAad,
  refResponseAad,
  refWrap,
  refXWing,
} from './reference.js';

const te = (s: string) => new TextEncoder().encode(s);
const ZERO12 = new Uint8Array(12);
const sorted = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sorted)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
        )
      : v;
/** Same JSON value, ignoring object key order. */
function same(what: string, a: unknown, b: unknown): void {
  if (JSON.stringify(sorted(a)) !== JSON.stringify(sorted(b)))
    throw new Error(`generator: ${what} differs between code and reference`);
}

async function envelopeVector() {
  const now = 1_767_225_600; // 2026-01-01T00:00:00Z
  const kekKey = ramp(0x00, 32);
  const kek = await createKek({ key: kekKey, notBefore: now - 3600, notAfter: now + 86_400 });
  same('kid', kek.kid, refKid(kekKey));
  const route = '/v1/chat/completions';
  const requestId = 'req-0001';
  const body = {
    model: 'llama-3.1-8b-instruct',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Grüße! What is 2+2? 👋' },
    ],
    stream: true,
    max_tokens: 64,
    temperature: 0.2,
  };
  const dek = ramp(0x20, 32);
  const iv = ramp(0x40, 12);
  const { sealed, context } = await sealRequest({
    kek,
    route,
    requestId,
    body,
    now,
    random: fixedRandom(dek, iv),
  });

  const plainJcs = '{"max_tokens":64,"model":"llama-3.1-8b-instruct","stream":true}';
  const rest = { messages: body.messages, temperature: body.temperature };
  const aad = refRequestAad({ kid: kek.kid, rid: requestId, ts: now, route, plainJcs });
  const wk = refWrap(kekKey, dek);
  const kReq = refHkdf(dek, new Uint8Array(0), 'sealgate/v1/request-key');
  const ct = refGcmSeal(kReq, iv, aad, te(JSON.stringify(rest)));
  const refSealed = {
    model: body.model,
    stream: true,
    max_tokens: 64,
    sealgate: { v: 1, kid: kek.kid, rid: requestId, ts: now, wk: b64u(wk), iv: b64u(iv), ct: b64u(ct) },
  };
  same('sealed request', sealed, refSealed);
  const opened = await openRequest(sealed, await KeyRing.from([kek]), { route, now, maxAgeSeconds: 300 });
  same('opened request', opened.body, { ...body });

  const responseBody = {
    id: 'chatcmpl-0001',
    object: 'chat.completion',
    created: now + 1,
    model: body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: '4.' }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: 24,
      completion_tokens: 2,
      total_tokens: 26,
      prompt_tokens_details: { cached_tokens: 0 },
    },
  };
  const rs = ramp(0x60, 32);
  const sealedResponse = await sealResponse(context, responseBody, { random: fixedRandom(rs) });
  const { usage, ...responseRest } = responseBody;
  const respPlainJcs =
    '{"usage":{"completion_tokens":2,"prompt_tokens":24,"prompt_tokens_details":{"cached_tokens":0},"total_tokens":26}}';
  const respAad = refResponseAad({ kid: kek.kid, rid: requestId, route, plainJcs: respPlainJcs });
  const kResp = refHkdf(dek, rs, 'sealgate/v1/response-key');
  const respCt = refGcmSeal(kResp, ZERO12, respAad, te(JSON.stringify(responseRest)));
  same('sealed response', sealedResponse, { usage, sealgate: { v: 1, rs: b64u(rs), ct: b64u(respCt) } });

  const chunks = [
    '{"id":"chatcmpl-0002","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
    '{"id":"chatcmpl-0002","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"4."}}]}',
    '{"id":"chatcmpl-0002","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":2,"total_tokens":26}}',
    '[DONE]',
  ];
  const srs = ramp(0x80, 32);
  // Stream format 3: binary records, a burst of events per data frame (src/envelope/stream.ts).
  const batches = [chunks.slice(0, 3), chunks.slice(3)];
  const sealer = createStreamSealer(context, { random: fixedRandom(srs) });
  const frames: string[] = [];
  for (const b of batches) frames.push(hex(await sealer.seal(b)));
  frames.push(hex(await sealer.end()));
  const kStream = refHkdf(dek, srs, 'sealgate/v1/stream-key');
  const u32 = (n: number) => {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, n);
    return out;
  };
  const refFrames = [...batches, null].map((b, seq) => {
    const end = b === null;
    const pt = end ? new Uint8Array(0) : cat(...b.flatMap((e) => [u32(te(e).length), te(e)]));
    const fct = refGcmSeal(
      kStream,
      refFrameNonce(seq),
      refFrameAad({ kid: kek.kid, rid: requestId, route, seq, end }),
      pt,
    );
    const head = seq === 0 ? cat(te('SGS3'), srs) : new Uint8Array(0);
    return hex(cat(head, new Uint8Array([end ? 1 : 0]), u32(fct.length), fct));
  });
  same('stream frames', frames, refFrames);

  return {
    description:
      'Sealgate envelope v1, stream format 3 (docs/protocol.md); stream.frames are hex, as the sealer returns them (the header with the first). Inputs are fixed byte ramps; every output was produced by src/envelope and, independently, by test/vectors/reference.ts (@noble primitives), and they agree. Regenerate: npx tsx test/vectors/generate.ts',
    kek: { key: hex(kekKey), kid: kek.kid, notBefore: kek.notBefore, notAfter: kek.notAfter },
    request: {
      route,
      requestId,
      now,
      body,
      dek: hex(dek),
      iv: hex(iv),
      plainJcs,
      aad: hex(aad),
      kReq: hex(kReq),
      wk: hex(wk),
      sealed,
    },
    response: {
      rs: hex(rs),
      body: responseBody,
      plainJcs: respPlainJcs,
      aad: hex(respAad),
      kResp: hex(kResp),
      sealed: sealedResponse,
    },
    stream: { rs: hex(srs), kStream: hex(kStream), batches, frames },
  };
}

async function hpkeVector() {
  const seed = ramp(0xa0, 32);
  const eseed = ramp(0xc0, 64);
  const info = HPKE_INFO.kekUpload;
  const aad = te('sealgate test aad');
  const pt = te('a 32-byte secret, give or take..');
  const pair = await keyPairFromSeed(seed);
  same('pk', hex(pair.publicKey), hex(refXWing.keygen(seed).publicKey));
  const sealed = await sealToPublicKey(pair.publicKey, pt, { info, aad, random: fixedRandom(eseed) });
  const enc = refXWing.encapsulate(pair.publicKey, eseed);
  same('enc', hex(sealed.enc), hex(enc.cipherText));
  const ks = refHpkeKeySchedule(enc.sharedSecret, te(info));
  same('hpke ct', hex(sealed.ciphertext), hex(refGcmSeal(ks.key, ks.baseNonce, aad, pt)));

  const now = 1_767_225_600;
  const kek = await createKek({ key: ramp(0x00, 32), notBefore: now - 3600, notAfter: now + 86_400 });
  const context = te('attestation-nonce-0001');
  const kekEseed = ramp(0xe0, 64);
  const sealedKek = await sealKek(pair.publicKey, kek, {
    purpose: 'kek-release',
    context,
    random: fixedRandom(kekEseed),
  });
  const record = encodeKekRecord(kek);
  const kekEnc = refXWing.encapsulate(pair.publicKey, kekEseed);
  const kks = refHpkeKeySchedule(kekEnc.sharedSecret, te(HPKE_INFO.kekRelease));
  const kekCt = refGcmSeal(kks.key, kks.baseNonce, lp(kek.kid, context), record);
  same('sealed KEK', sealedKek, { v: 1, kid: kek.kid, enc: b64u(kekEnc.cipherText), ct: b64u(kekCt) });

  return {
    description:
      'HPKE base mode (RFC 9180) with X-Wing (0x647a) / HKDF-SHA256 / AES-256-GCM, as used by src/keys. Produced by src/keys with injected randomness and, independently, by @noble/post-quantum X-Wing + an RFC 9180 §5.1 key schedule over @noble/hashes; they agree. Regenerate: npx tsx test/vectors/generate.ts',
    seed: hex(seed),
    pk: hex(pair.publicKey),
    eseed: hex(eseed),
    info,
    aad: hex(aad),
    pt: hex(pt),
    enc: hex(sealed.enc),
    sharedSecret: hex(enc.sharedSecret),
    key: hex(ks.key),
    baseNonce: hex(ks.baseNonce),
    ct: hex(sealed.ciphertext),
    kekTransport: {
      purpose: 'kek-release',
      kek: { key: hex(kek.key), kid: kek.kid, notBefore: kek.notBefore, notAfter: kek.notAfter },
      context: hex(context),
      record: hex(record),
      eseed: hex(kekEseed),
      sealed: sealedKek,
    },
  };
}

const dir = import.meta.dirname;
writeFileSync(join(dir, 'envelope-v1.json'), `${JSON.stringify(await envelopeVector(), null, 2)}\n`);
writeFileSync(join(dir, 'hpke-xwing-v1.json'), `${JSON.stringify(await hpkeVector(), null, 2)}\n`);
console.log('wrote envelope-v1.json and hpke-xwing-v1.json');
