/**
 * Setup's egress proxy: an HTTP CONNECT proxy on a Unix socket in the sandbox's egress
 * slot. It only tunnels (TLS stays end to end between setup's tools and the registry; the
 * proxy never sees inside); a plain-HTTP request (absolute URI, no CONNECT) is refused,
 * because every registry on the operator's lists speaks HTTPS and a proxy that fetched
 * plain HTTP would be reading and relaying content it cannot authenticate.
 *
 * A CONNECT is let through when its host name is on the run's allowlist, its port is
 * allowed, and every address the host resolves it to (on the host, with the host's
 * resolver) is public; the tunnel goes to the checked address, never to a second lookup.
 * Every attempt, let through or not, becomes one ledger entry.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { classifyAddress, hostAllowed, normalizeHostName } from './policy.js';

export type EgressReason =
  | 'allowed'
  | 'not_on_allowlist'
  | 'port_not_allowed'
  | 'ip_literal'
  | 'not_connect'
  | 'bad_request'
  | 'resolve_failed'
  | 'private_address'
  | 'connect_failed'
  | 'too_many_connections';

/** One connection attempt through the proxy: a row of the run's egress ledger. */
export interface EgressLedgerEntry {
  /** The host name asked for (lower case), or the raw target when it was not a host name. */
  host: string;
  port: number;
  /** The address the tunnel went to (allowed entries), or the one that was refused. */
  address: string | null;
  allowed: boolean;
  reason: EgressReason;
  /** Bytes from the sandbox to the registry, and back, through the tunnel. */
  bytesUp: number;
  bytesDown: number;
  startedAt: Date;
  endedAt: Date;
}

export type HostLookup = (host: string) => Promise<{ address: string; family: number }[]>;

export interface EgressProxyOptions {
  socketPath: string;
  /** Host names (or `*.suffix` patterns) on the run's allowlist. */
  allowHosts: readonly string[];
  /** Ports a tunnel may go to. Default 443. */
  ports?: readonly number[];
  /** Loopback addresses pass the address check: tests only (a local registry stand-in). */
  allowLoopback?: boolean;
  /** The host's resolver. Default: the system resolver, every address. */
  lookup?: HostLookup;
  /** Tunnels open at once; more are refused. Default 64. */
  maxConnections?: number;
  connectTimeoutMs?: number;
  /** Called with each entry as it is completed. */
  onEntry?: (entry: EgressLedgerEntry) => void;
}

export interface EgressProxy {
  /** The entries completed so far. */
  readonly ledger: readonly EgressLedgerEntry[];
  /** Stops listening, removes the socket, ends every open tunnel; resolves with the whole ledger. */
  close(): Promise<EgressLedgerEntry[]>;
}

const systemLookup: HostLookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/** `host:port` of a CONNECT request line; IPv6 literals in brackets. */
function parseAuthority(target: string): { rawHost: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(target);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { rawHost: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export async function startEgressProxy(opts: EgressProxyOptions): Promise<EgressProxy> {
  const ports = opts.ports ?? [443];
  const lookup = opts.lookup ?? systemLookup;
  const maxConnections = opts.maxConnections ?? 64;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 15_000;
  const ledger: EgressLedgerEntry[] = [];
  const open = new Set<Duplex>();
  const pending = new Set<Promise<void>>();
  let tunnels = 0;
  let closing = false;

  const record = (entry: EgressLedgerEntry) => {
    ledger.push(entry);
    opts.onEntry?.(entry);
  };
  const track = (s: Duplex) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };

  const refuse = (client: Duplex, status: string, entry: Omit<EgressLedgerEntry, 'allowed' | 'bytesUp' | 'bytesDown' | 'endedAt'>) => {
    record({ ...entry, allowed: false, bytesUp: 0, bytesDown: 0, endedAt: new Date() });
    if (!client.destroyed) client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  async function handleConnect(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const startedAt = new Date();
    const target = parseAuthority(req.url ?? '');
    if (!target)
      return refuse(client, '400 Bad Request', { host: String(req.url ?? '').slice(0, 255), port: 0, address: null, reason: 'bad_request', startedAt });
    const host = normalizeHostName(target.rawHost);
    const base = { host: host ?? target.rawHost.toLowerCase().slice(0, 255), port: target.port, address: null, startedAt };
    if (!host) return refuse(client, '403 Forbidden', { ...base, reason: isIP(target.rawHost) ? 'ip_literal' : 'bad_request' });
    if (!hostAllowed(opts.allowHosts, host)) return refuse(client, '403 Forbidden', { ...base, reason: 'not_on_allowlist' });
    if (!ports.includes(target.port)) return refuse(client, '403 Forbidden', { ...base, reason: 'port_not_allowed' });
    if (tunnels >= maxConnections) return refuse(client, '503 Service Unavailable', { ...base, reason: 'too_many_connections' });
    tunnels++;
    try {
      let addresses: { address: string }[];
      try {
        addresses = await lookup(host);
      } catch {
        addresses = [];
      }
      if (addresses.length === 0) return refuse(client, '502 Bad Gateway', { ...base, reason: 'resolve_failed' });
      // Every address must pass: a name that resolves to one private address among public
      // ones is refused outright, so which one a retry picks cannot matter.
      const bad = addresses.find((a) => {
        const kind = classifyAddress(a.address);
        return kind === 'private' || (kind === 'loopback' && !opts.allowLoopback);
      });
      if (bad) return refuse(client, '403 Forbidden', { ...base, address: bad.address, reason: 'private_address' });
      if (closing || client.destroyed) return refuse(client, '503 Service Unavailable', { ...base, reason: 'connect_failed' });
      await tunnel(client, head, { ...base, address: addresses[0]!.address });
    } finally {
      tunnels--;
    }
  }

  function tunnel(client: Duplex, head: Buffer, base: { host: string; port: number; address: string; startedAt: Date }): Promise<void> {
    return new Promise((resolve) => {
      let up = head.length;
      let down = 0;
      let established = false;
      const upstream: Socket = connect({ host: base.address, port: base.port });
      track(upstream);
      upstream.setTimeout(connectTimeoutMs, () => upstream.destroy(new Error('connect timeout')));
      upstream.once('connect', () => {
        established = true;
        upstream.setTimeout(0);
        if (head.length > 0) upstream.write(head);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        client.on('data', (chunk: Buffer) => {
          up += chunk.length;
        });
        upstream.on('data', (chunk: Buffer) => {
          down += chunk.length;
        });
        client.pipe(upstream);
        upstream.pipe(client);
      });
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        client.destroy();
        upstream.destroy();
        record({
          ...base,
          allowed: true,
          reason: established ? 'allowed' : 'connect_failed',
          bytesUp: established ? up : 0,
          bytesDown: down,
          endedAt: new Date(),
        });
        resolve();
      };
      upstream.on('error', () => {
        if (!established && !client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        finish();
      });
      upstream.on('close', finish);
      client.on('error', finish);
      client.on('close', finish);
    });
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A plain-HTTP proxy request (GET http://host/...) or anything else that is not CONNECT.
    let host = '';
    try {
      host = new URL(req.url ?? '').hostname.toLowerCase();
    } catch {
      host = String(req.headers.host ?? '').toLowerCase();
    }
    record({
      host: host.slice(0, 255),
      port: 0,
      address: null,
      allowed: false,
      reason: 'not_connect',
      bytesUp: 0,
      bytesDown: 0,
      startedAt: new Date(),
      endedAt: new Date(),
    });
    res.writeHead(405, { Allow: 'CONNECT', Connection: 'close', 'Content-Length': '0' });
    res.end();
  });
  server.on('connection', (s: Socket) => track(s));
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => undefined);
    const p = handleConnect(req, client, head).catch(() => {
      client.destroy();
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  });
  server.on('upgrade', (_req: IncomingMessage, client: Duplex) => client.destroy());
  server.on('clientError', (_e, s: Duplex) => s.destroy());

  await rm(opts.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The sandbox user (uid 1000) connects; the directory around it is the host's and read-only inside.
  await chmod(opts.socketPath, 0o666);

  let closed: Promise<EgressLedgerEntry[]> | undefined;
  return {
    ledger,
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await rm(opts.socketPath, { force: true });
        for (const s of open) s.destroy();
        await Promise.all([...pending]);
        await stopped;
        return [...ledger];
      })();
      return closed;
    },
  };
}
