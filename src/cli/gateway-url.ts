/**
 * The gateway's base URL as a user gives it to a CLI command: the gateway's own URL (a path prefix
 * where it is mounted under one), or the OpenAI SDKs' `baseURL`, which ends in `/v1` — every route
 * the CLI calls is under `/v1`, so a final `/v1` segment is the SDK's, not part of the gateway's
 * base (left on, `…/v1/v1/attestation` answers 404). An http(s) URL without query or fragment;
 * trailing slashes are dropped.
 */
import { UsageError } from './args.js';

export function gatewayBaseUrl(value: string, what = 'URL'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${what}: ${JSON.stringify(value)} is not an absolute URL`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new UsageError(`${what} must be an http(s) URL without query or fragment`);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${url.origin}${path}`;
}
