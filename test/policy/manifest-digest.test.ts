/**
 * The manifest digest (SHA-256 of the RFC 8785 form); the strict JSON reader is test/json/strict-json.test.ts.
 * Pinned digests were computed by a second implementation (Python:
 * `hashlib.sha256(json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())`,
 * equal to RFC 8785 for documents of integers and BMP strings, as both manifests are).
 */
import { describe, expect, it } from 'vitest';
import example from '../../manifests/example.json' with { type: 'json' };
import testVectors from '../../manifests/test-vectors.json' with { type: 'json' };
import { utf8 } from '../../src/bytes.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';

const EXAMPLE_DIGEST = 'e7a260ba7374108c5a45a021cf499f20b0954661504f805e6f6d61c2735a83d9';

function reorder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reorder);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reorder(x)]),
    );
  }
  return v;
}

describe('manifestDigest', () => {
  it('matches digests computed by a second implementation', async () => {
    expect(await manifestDigest('{"b":"x","a":[1,2]}')).toBe(
      'd0f56dda38d34376527524ddd98f7ec117d5cbfb240f86e11bfb9d2d01a717d9',
    );
    expect(await manifestDigest(JSON.stringify(example))).toBe(EXAMPLE_DIGEST);
    expect(await manifestDigest(JSON.stringify(testVectors))).toBe(
      'f32be9d2f1f886ee812a8d34e56d789310a93a1e88a793dd66181634de6caf02',
    );
  });

  it('is the same for the text, its bytes, the parsed manifest, and any whitespace or member order', async () => {
    const pretty = JSON.stringify(example, null, 2);
    const forms: (string | Uint8Array | ReturnType<typeof parseManifest>)[] = [
      pretty,
      JSON.stringify(example),
      JSON.stringify(reorder(example), null, '\t'),
      pretty.replace(/\n/g, '\r\n   '),
      // Same numbers, other spelling: 3600 → 3.6e3, 300 → 300.0.
      pretty.replace('3600', '3.6e3').replace('"overlapSeconds": 300', '"overlapSeconds": 300.0'),
      utf8.encode(pretty),
      parseManifest(pretty),
      parseManifest(reorder(example)),
    ];
    for (const form of forms) expect(await manifestDigest(form)).toBe(EXAMPLE_DIGEST);
  });

  it('changes when one character of the value changes', async () => {
    const text = JSON.stringify(example);
    const i = text.indexOf('badc0ffee0ddf00d');
    const changed = `${text.slice(0, i)}c${text.slice(i + 1)}`;
    expect(changed.length).toBe(text.length);
    expect(await manifestDigest(changed)).not.toBe(EXAMPLE_DIGEST);
    expect(await manifestDigest(text.replace('"vmpl":0', '"vmpl":1'))).not.toBe(EXAMPLE_DIGEST);
  });

  it('refuses text that is not strict JSON', async () => {
    await expect(manifestDigest('{"a":1,"a":2}')).rejects.toThrow(
      'invalid manifest: /a: JSON: duplicate member name',
    );
    await expect(manifestDigest(new Uint8Array([0x7b, 0xff, 0x7d]))).rejects.toThrow(
      'invalid manifest: /: manifest bytes are not valid UTF-8',
    );
  });
});
