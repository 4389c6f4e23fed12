/**
 * Keeps deliveries off private networks. Host names are resolved by a `lookup` that
 * undici's connector uses for the connection itself, so the address that was vetted is
 * the address connected to: a DNS answer that changes between check and connect
 * (rebinding) cannot slip through.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const blockedV4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const;

const blockedV6 = [
  ['::', 96], // IPv4-compatible (deprecated), with :: and ::1
  ['100::', 64], // discard
  ['2001::', 32], // Teredo: tunnels to an obfuscated IPv4 address through a relay
  ['2001:db8::', 32], // documentation
  ['64:ff9b:1::', 48], // local-use NAT64: where the IPv4 address sits is the site's choice
  ['fc00::', 7], // unique local (incl. fd00:ec2::254 metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const;

const blockList = new BlockList();
for (const [address, prefix] of blockedV4) blockList.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of blockedV6) blockList.addSubnet(address, prefix, 'ipv6');

/** The eight 16-bit groups of a valid IPv6 address (isIP said so), a dotted IPv4 tail included. */
function ipv6Groups(address: string): number[] {
  // A dotted tail is two groups written in decimal: "::1.2.3.4" is "::102:304".
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((group) => group.toString(16)).join(':'),
  );
  const hex = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const gap = text.indexOf('::');
  if (gap < 0) return hex(text);
  const head = hex(text.slice(0, gap));
  const rest = hex(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

const dottedQuad = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 address reaches through a translation or tunnel whose IPv4
 * address is in the address itself: IPv4-mapped (::ffff:0:0/96), IPv4-translated
 * (::ffff:0:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). The other embeddings
 * (IPv4-compatible, Teredo, local-use NAT64) are blocked as whole ranges.
 */
function embeddedIPv4(groups: number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zeros = (...values: number[]) => values.every((value) => value === 0);
  if (zeros(g0, g1, g2, g3, g4) && g5 === 0xffff) return dottedQuad(g6, g7);
  if (zeros(g0, g1, g2, g3, g5) && g4 === 0xffff) return dottedQuad(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && zeros(g2, g3, g4, g5)) return dottedQuad(g6, g7);
  if (g0 === 0x2002) return dottedQuad(g1, g2);
  return undefined;
}

/** True for loopback, private, link-local, CGNAT, multicast, metadata and other non-public addresses. */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return blockList.check(bare, 'ipv4');
  if (family === 6) {
    const groups = ipv6Groups(bare.toLowerCase());
    const canonical = groups.map((group) => group.toString(16)).join(':');
    if (blockList.check(canonical, 'ipv6')) return true;
    const v4 = embeddedIPv4(groups);
    return v4 !== undefined && blockList.check(v4, 'ipv4');
  }
  return true; // not an address at all: refuse rather than guess
}

/**
 * A refused destination. The message goes into the access record, which the tenant reads:
 * it names the host as the trigger has it and never the address a name resolved to (an
 * internal name would reveal its private address); `addresses` is for the operator's log.
 */
export class SsrfBlockedError extends Error {
  readonly code = 'SSRF_BLOCKED';
  constructor(
    host: string,
    readonly addresses: readonly string[] = [],
  ) {
    super(
      `refused to connect to ${host}: its address is in a blocked range (loopback, private, link-local or reserved); set DELIVERY_ALLOW_PRIVATE_NETWORKS=true to allow them`,
    );
    this.name = 'SsrfBlockedError';
  }
}

/** Told of every host name whose addresses were all refused (the operator's log line). */
export type OnBlockedLookup = (host: string, addresses: string[]) => void;

/** A `lookup` for net/tls connect that only ever answers with public addresses. */
export function guardedLookupReporting(onBlocked?: OnBlockedLookup): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const allowed = addresses.filter((entry) => !isBlockedAddress(entry.address));
      if (allowed.length === 0) {
        const refused = addresses.map((entry) => entry.address);
        onBlocked?.(hostname, refused);
        callback(new SsrfBlockedError(hostname, refused), '', 0);
        return;
      }
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, allowed);
      } else {
        callback(null, allowed[0]!.address, allowed[0]!.family);
      }
    });
  };
}

export const guardedLookup: LookupFunction = guardedLookupReporting();
