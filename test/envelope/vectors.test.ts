/**
 * envelope-v1.json, checked three ways: the real code reproduces it byte for byte (randomness
 * injected), the real code opens it, and the independent reference (@noble, written from
 * docs/protocol.md) opens it from the documented layouts.
 */
import { describe, expect, it } from 'vitest';
import { openResponse, sealResponse } from '../../src/envelope/response.js';
import { createStreamOpener } from '../../src/envelope/stream.js';
import { vectorRequest, vectorStreamFrames } from '../vectors/envelope-v1.js';
import v from '../vectors/envelope-v1.json';
import {
  fixedRandom,
  hex,
  refFrameAad,
  refFrameNonce,
  refGcmOpen,
  refHkdf,
  refKid,
  refRequestAad,
  refResponseAad,
  refUnwrap,
  unb64u,
  unhex,
} from '../vectors/reference.js';

const td = (b: Uint8Array) => new TextDecoder().decode(b);
const { route, requestId } = v.request;

/** Sealed and opened with the default backend (WebCrypto). */
const setup = () => vectorRequest();

describe('envelope-v1.json: request', () => {
  it('sealRequest reproduces the sealed body byte for byte', async () => {
    const { kek, gateway } = await setup();
    expect(kek.kid).toBe(v.kek.kid);
    expect(JSON.stringify(gateway.sealed)).toBe(JSON.stringify(v.request.sealed));
  });
  it('openRequest returns the original body and the request context', async () => {
    const { worker } = await setup();
    expect(worker.body).toEqual(v.request.body);
    expect(worker.context).toMatchObject({ requestId, route, kid: v.kek.kid, model: v.request.body.model });
  });
  it('the reference opens it from the documented layout (AES-KW, HKDF, AAD, GCM)', () => {
    const env = v.request.sealed.sealgate;
    expect(refKid(unhex(v.kek.key))).toBe(env.kid);
    const dek = refUnwrap(unhex(v.kek.key), unb64u(env.wk));
    expect(hex(dek)).toBe(v.request.dek);
    const kReq = refHkdf(dek, new Uint8Array(0), 'sealgate/v1/request-key');
    expect(hex(kReq)).toBe(v.request.kReq);
    const aad = refRequestAad({
      kid: env.kid,
      rid: env.rid,
      ts: env.ts,
      route,
      plainJcs: v.request.plainJcs,
    });
    expect(hex(aad)).toBe(v.request.aad);
    const rest = JSON.parse(td(refGcmOpen(kReq, unb64u(env.iv), aad, unb64u(env.ct))));
    const { model, stream, max_tokens, ...sealedPart } = v.request.body;
    expect(rest).toEqual(sealedPart);
    expect(v.request.sealed).toMatchObject({ model, stream, max_tokens });
  });
});

describe('envelope-v1.json: response', () => {
  it('sealResponse reproduces it from either side’s context, and openResponse opens it', async () => {
    const { gateway, worker } = await setup();
    for (const ctx of [gateway.context, worker.context]) {
      const sealed = await sealResponse(ctx, v.response.body, { random: fixedRandom(unhex(v.response.rs)) });
      expect(JSON.stringify(sealed)).toBe(JSON.stringify(v.response.sealed));
      expect(await openResponse(ctx, v.response.sealed)).toEqual(v.response.body);
    }
  });
  it('the reference opens it', () => {
    const kResp = refHkdf(unhex(v.request.dek), unhex(v.response.rs), 'sealgate/v1/response-key');
    expect(hex(kResp)).toBe(v.response.kResp);
    const aad = refResponseAad({ kid: v.kek.kid, rid: requestId, route, plainJcs: v.response.plainJcs });
    expect(hex(aad)).toBe(v.response.aad);
    const rest = JSON.parse(
      td(refGcmOpen(kResp, new Uint8Array(12), aad, unb64u(v.response.sealed.sealgate.ct))),
    );
    const { usage, ...sealedPart } = v.response.body;
    expect(rest).toEqual(sealedPart);
    expect(v.response.sealed.usage).toEqual(usage);
  });
});

describe('envelope-v1.json: stream', () => {
  it('the sealer reproduces every record and the opener returns every batch of events', async () => {
    const { gateway, worker } = await setup();
    expect(await vectorStreamFrames(worker.context)).toEqual(v.stream.frames);
    const opener = createStreamOpener(gateway.context);
    const out: string[][] = [];
    for (const f of v.stream.frames) {
      await opener.push(unhex(f), (events) => out.push(events.map((e) => td(e))));
    }
    opener.finish();
    expect(out).toEqual(v.stream.batches);
  });
  it('the reference opens every record with nonce 0^32 ‖ u64be(n) and the frame AAD', () => {
    const kStream = refHkdf(unhex(v.request.dek), unhex(v.stream.rs), 'sealgate/v1/stream-key');
    expect(hex(kStream)).toBe(v.stream.kStream);
    const body = unhex(v.stream.frames.join(''));
    expect(td(body.subarray(0, 4))).toBe('SGS3');
    expect(hex(body.subarray(4, 36))).toBe(v.stream.rs);
    const opened: string[][] = [];
    let at = 36;
    for (let seq = 0; at < body.length; seq++) {
      const type = body[at]!;
      const length = new DataView(body.buffer, body.byteOffset + at + 1).getUint32(0);
      const ct = body.subarray(at + 5, at + 5 + length);
      at += 5 + length;
      const aad = refFrameAad({ kid: v.kek.kid, rid: requestId, route, seq, end: type === 1 });
      const pt = refGcmOpen(kStream, refFrameNonce(seq), aad, ct);
      // Format 3: each data frame's plaintext is its events, each u32be(len) ‖ UTF-8; the end is empty.
      const events: string[] = [];
      for (let i = 0; i < pt.length; ) {
        const n = new DataView(pt.buffer, pt.byteOffset + i).getUint32(0);
        events.push(td(pt.subarray(i + 4, i + 4 + n)));
        i += 4 + n;
      }
      opened.push(events);
      expect(type).toBe(at === body.length ? 1 : 0);
    }
    expect(opened).toEqual([...v.stream.batches, []]);
  });
});
