/**
 * The official SDKs in a web page (`dangerouslyAllowBrowser: true`) against the running gateway
 * (the Worker in workerd, the real service and worker apps behind it), through a fetch that does
 * what a browser does for a cross-origin request (Fetch standard, "CORS protocol"): a preflight
 * naming every request header that is not CORS-safelisted, the request refused unless the
 * preflight's Access-Control-Allow-Headers lists each; then only the safelisted and exposed
 * response headers reach the page.
 *
 * The SDKs send `x-stainless-*` headers (platform, retry count, timeout), `user-agent`, and the
 * Anthropic SDK `anthropic-dangerous-direct-browser-access`: none was allowed, so neither SDK could
 * make a single call from an allowed origin (an APIConnectionError, nothing sent). And the kept
 * receipt (`x-sealgate-receipt-data`) was not exposed: a page could not keep its answer's receipt.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import { KEPT_RECEIPT_HEADER, parseKeptReceipt } from '../../src/receipts/kept-receipt.js';
import { callGateway as call, stackPerFile } from './do-helpers.js';
import { env, gatewayDescribe } from './stack.js';

const ORIGIN = 'https://app.example'; // in CORS_ORIGINS (vitest.gateway.config.ts)

/** Fetch standard §4.8 "CORS-safelisted request-header" for the names the SDKs send. */
const SAFELISTED = new Set(['accept', 'accept-language', 'content-language']);
/** Response headers a page reads without them being exposed ("CORS-safelisted response-header name"). */
const SAFE_RESPONSE = [
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
];
const list = (value: string | null) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/** What a browser does with one cross-origin fetch from ORIGIN; what the page gets, or TypeError. */
async function browserFetch(url: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const path = new URL(String(url)).pathname;
  const method = init.method ?? 'GET';
  const headers = new Headers(init.headers);
  const names: string[] = [];
  headers.forEach((_value, name) => {
    names.push(name);
  });
  const unsafe = names.filter(
    (name) =>
      !SAFELISTED.has(name) &&
      !(
        name === 'content-type' &&
        /^(text\/plain|multipart\/form-data|application\/x-www-form-urlencoded)/.test(headers.get(name)!)
      ),
  );
  const preflight = await call(path, {
    method: 'OPTIONS',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': method,
      'access-control-request-headers': unsafe.sort().join(','),
    },
  });
  const allowed = list(preflight.headers.get('access-control-allow-headers'));
  const missing = unsafe.filter((name) => !allowed.includes(name));
  if (
    !preflight.ok ||
    preflight.headers.get('access-control-allow-origin') !== ORIGIN ||
    missing.length > 0
  ) {
    throw new TypeError(`CORS preflight refused; headers not allowed: ${missing.join(',')}`);
  }
  headers.set('origin', ORIGIN);
  const res = await call(path, { ...init, headers });
  if (res.headers.get('access-control-allow-origin') !== ORIGIN)
    throw new TypeError('CORS: origin not allowed');
  const visible = new Set([...SAFE_RESPONSE, ...list(res.headers.get('access-control-expose-headers'))]);
  const filtered = new Headers();
  res.headers.forEach((value, name) => {
    if (visible.has(name)) filtered.set(name, value);
  });
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: filtered });
}

stackPerFile({ keyed: true });

gatewayDescribe('the official SDKs from a page on an allowed origin', () => {
  it('openai: a chat completion, and its kept receipt readable by the page', async () => {
    const client = new OpenAI({
      apiKey: env.DEV_API_KEY,
      baseURL: 'https://gateway.test/v1',
      dangerouslyAllowBrowser: true,
      maxRetries: 0,
      fetch: browserFetch,
    });
    const { data, response } = await client.chat.completions
      .create({ model: 'sealgate-builtin', messages: [{ role: 'user', content: 'hello from a page' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toContain('hello from a page');
    const kept = response.headers.get(KEPT_RECEIPT_HEADER);
    expect(kept).not.toBeNull();
    expect(parseKeptReceipt(kept!).receipt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('anthropic: a message', async () => {
    const client = new Anthropic({
      apiKey: env.DEV_API_KEY,
      baseURL: 'https://gateway.test',
      dangerouslyAllowBrowser: true,
      maxRetries: 0,
      fetch: browserFetch,
    });
    const message = await client.messages.create({
      model: 'sealgate-builtin',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hello from a page' }],
    });
    expect(JSON.stringify(message.content)).toContain('hello from a page');
  });
});
