/**
 * The client an IP address counts as, for every per-client bound (the AI worker's body budget, the
 * gateway's attestation rate limit and failed-key throttle): IPv4 as it is, IPv4-mapped IPv6
 * (RFC 4291 §2.5.5.2) as its IPv4 address, other IPv6 by its first 64 bits — one host is
 * routinely given a whole /64 (RFC 6177 §2, RFC 7421 §1), so counting each address would let one
 * client be 2^64 clients. The group is written `2001:db8:0:1::/64` (groups without leading zeros),
 * one spelling for every way of writing the address (RFC 5952 allows several on input).
 */

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The client group of a non-empty address (see the module comment). */
export function clientAddressGroup(address: string): string {
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const bare = address.split('%')[0]!.toLowerCase(); // a zone id names the link, not the host
  const [head, tail] = bare.split('::') as [string, string | undefined];
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    const after = tail === '' ? [] : tail.split(':');
    // A dotted IPv4 tail fills the last two groups: beyond the /64, so only its count matters.
    const tailGroups = after.length + (after.at(-1)?.includes('.') ? 1 : 0);
    groups.push(...Array<string>(Math.max(0, 8 - groups.length - tailGroups)).fill('0'), ...after);
  }
  const prefix = groups.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return `${prefix.join(':')}::/64`;
}
