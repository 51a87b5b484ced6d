/**
 * Which connections setup's egress proxy lets through: host names on the run's allowlist,
 * on an allowed port, that resolve (on the host) to public addresses only.
 */
import { BlockList, isIP } from 'node:net';

/**
 * The operator's named lists (`npm`, `pypi`, ... → host names), as configured
 * (USERZ_EGRESS_LISTS). The names a repository may ask for in `.userz.yml` `egress.allow`.
 */
export type EgressLists = Readonly<Record<string, readonly string[]>>;

export interface EgressAllowlist {
  /** Host names (lower case) or `*.suffix` patterns a connection may name. */
  hosts: readonly string[];
  /** The list names that were granted. */
  granted: readonly string[];
  /** Names the repository asked for that the operator does not offer: nothing is granted for them. */
  refused: readonly string[];
}

const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A host name as a connection names it: lower case, no trailing dot; undefined when it is not one (an IP literal is not). */
export function normalizeHostName(raw: string): string | undefined {
  const host = raw.trim().toLowerCase().replace(/\.$/, '');
  if (!HOST_NAME.test(host) || isIP(host) !== 0 || /^[0-9.]+$/.test(host)) return undefined;
  return host;
}

/** The operator's lists intersected with the names the repository asked for. */
export function resolveAllowlist(lists: EgressLists, repoAllow: readonly string[]): EgressAllowlist {
  const granted: string[] = [];
  const refused: string[] = [];
  const hosts = new Set<string>();
  for (const name of new Set(repoAllow)) {
    const list = Object.prototype.hasOwnProperty.call(lists, name) ? lists[name] : undefined;
    if (!list || list.length === 0) {
      refused.push(name);
      continue;
    }
    granted.push(name);
    for (const h of list) hosts.add(h.toLowerCase());
  }
  return { hosts: [...hosts], granted, refused };
}

/** Whether `host` (normalized) is named by the allowlist: an exact name, or under a `*.suffix` pattern. */
export function hostAllowed(allowlist: readonly string[], host: string): boolean {
  return allowlist.some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern));
}

// Everything that is not the public internet: RFC 1918, CGNAT, loopback, link-local (cloud
// metadata), multicast, reserved, documentation and benchmark ranges, and IPv6's equivalents.
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');
}
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An IPv4 address carried in IPv6 (`::ffff:a.b.c.d`, `::a.b.c.d`) is judged as IPv4. */
function unwrapMapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, family: 'ipv4' };
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/i.test(address)) {
    const [hi, lo] = address
      .slice(7)
      .split(':')
      .map((x) => parseInt(x, 16)) as [number, number];
    return { address: [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.'), family: 'ipv4' };
  }
  return { address, family: isIP(address) === 4 ? 'ipv4' : 'ipv6' };
}

export type AddressVerdict = 'public' | 'loopback' | 'private';

/** What kind of address an IP is; 'private' covers every non-public range but loopback. */
export function classifyAddress(raw: string): AddressVerdict {
  if (isIP(raw) === 0) return 'private';
  const { address, family } = unwrapMapped(raw);
  if (LOOPBACK.check(address, family)) return 'loopback';
  if (NOT_PUBLIC.check(address, family)) return 'private';
  return 'public';
}
