/**
 * Setup's egress proxy without a sandbox: which CONNECTs it tunnels, which it refuses and
 * why, what the ledger says, and that closing it leaves no socket and no open tunnel.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { classifyAddress, hostAllowed, normalizeHostName, resolveAllowlist } from '../../../src/sandbox/egress/policy.js';
import { startEgressProxy, type EgressProxy, type EgressProxyOptions } from '../../../src/sandbox/egress/proxy.js';

const toClose: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
});

/** A TCP server on loopback that answers `pong:<what it got>` and keeps the socket open. */
async function echoServer(): Promise<{ port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => s.write(`pong:${d.toString()}`));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  toClose.push({
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(r);
      }),
  });
  return { port: (server.address() as { port: number }).port, sockets };
}

async function proxy(opts: Partial<EgressProxyOptions> = {}): Promise<{ proxy: EgressProxy; socketPath: string }> {
  const socketPath = join(mkdtempSync(join(tmpdir(), 'userz-egress-')), 'proxy.sock');
  const p = await startEgressProxy({
    socketPath,
    allowHosts: ['registry.test'],
    lookup: async (host) => (host === 'registry.test' || host === 'other.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
    ...opts,
  });
  toClose.push(p);
  return { proxy: p, socketPath };
}

/** Sends `request` to the proxy, then `payload` once a 200 came back; resolves with the status line and what came through. */
function through(socketPath: string, request: string, payload = 'ping'): Promise<{ status: string; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buf = '';
    let status = '';
    socket.on('error', reject);
    socket.on('data', (d) => {
      buf += d.toString();
      if (!status) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = buf.slice(0, buf.indexOf('\r\n'));
        buf = buf.slice(end + 4);
        if (status.includes(' 200 ')) socket.write(payload);
        else return resolve({ status, body: '', socket });
      }
      if (buf.startsWith(`pong:${payload}`)) resolve({ status, body: buf, socket });
    });
    socket.on('end', () => resolve({ status, body: buf, socket }));
    socket.write(request);
  });
}

const connectTo = (host: string, port: number) => `CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`;

describe('egress allowlist', () => {
  it('grants the operator hosts of the names the repository asked for, and refuses names it does not offer', () => {
    const lists = { npm: ['registry.one.test'], pypi: ['pkgs.two.test', 'files.two.test'], empty: [] };
    expect(resolveAllowlist(lists, ['npm', 'crates', 'empty', 'npm', '__proto__'])).toEqual({
      hosts: ['registry.one.test'],
      granted: ['npm'],
      refused: ['crates', 'empty', '__proto__'],
    });
    expect(resolveAllowlist(lists, []).hosts).toEqual([]);
  });

  it('matches exact names and *.suffix patterns only', () => {
    const list = ['registry.test', '*.cdn.test'];
    expect(hostAllowed(list, 'registry.test')).toBe(true);
    expect(hostAllowed(list, 'a.cdn.test')).toBe(true);
    expect(hostAllowed(list, 'cdn.test')).toBe(false);
    expect(hostAllowed(list, 'evilcdn.test')).toBe(false);
    expect(hostAllowed(list, 'registry.test.evil')).toBe(false);
    expect(hostAllowed(list, 'sub.registry.test')).toBe(false);
  });

  it('takes host names only, never an address literal', () => {
    expect(normalizeHostName('Registry.Test.')).toBe('registry.test');
    expect(normalizeHostName('127.0.0.1')).toBeUndefined();
    expect(normalizeHostName('::1')).toBeUndefined();
    expect(normalizeHostName('2130706433')).toBeUndefined();
    expect(normalizeHostName('a b')).toBeUndefined();
  });

  it('tells public addresses from private, link-local and loopback ones, IPv4 inside IPv6 included', () => {
    for (const a of [
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      'fd00::1',
      'fe80::1',
      '::',
      '::ffff:10.0.0.1',
      '::ffff:a9fe:a9fe',
    ]) {
      expect([a, classifyAddress(a)]).toEqual([a, 'private']);
    }
    for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) expect([a, classifyAddress(a)]).toEqual([a, 'loopback']);
    for (const a of ['93.184.216.34', '2606:4700::1111', '::ffff:93.184.216.34']) expect([a, classifyAddress(a)]).toEqual([a, 'public']);
  });
});

describe('egress proxy', () => {
  it('tunnels a CONNECT to an allowed name and logs its bytes', async () => {
    const server = await echoServer();
    const { proxy: p, socketPath } = await proxy({ ports: [server.port], allowLoopback: true });
    const res = await through(socketPath, connectTo('registry.test', server.port), 'ping');
    expect(res.status).toBe('HTTP/1.1 200 Connection Established');
    expect(res.body).toBe('pong:ping');
    res.socket.end();
    const ledger = await p.close();
    expect(ledger).toEqual([
      expect.objectContaining({ host: 'registry.test', port: server.port, address: '127.0.0.1', allowed: true, reason: 'allowed', bytesUp: 4, bytesDown: 9 }),
    ]);
  });

  it('refuses a name off the list, a port off the list, an IP literal and plain HTTP, and logs each', async () => {
    const server = await echoServer();
    const { proxy: p, socketPath } = await proxy({ ports: [server.port], allowLoopback: true });
    expect((await through(socketPath, connectTo('other.test', server.port))).status).toBe('HTTP/1.1 403 Forbidden');
    expect((await through(socketPath, connectTo('registry.test', 22))).status).toBe('HTTP/1.1 403 Forbidden');
    expect((await through(socketPath, connectTo('127.0.0.1', server.port))).status).toBe('HTTP/1.1 403 Forbidden');
    expect((await through(socketPath, `GET http://registry.test:${server.port}/x HTTP/1.1\r\nHost: registry.test\r\n\r\n`)).status).toMatch(/^HTTP\/1\.1 405 /);
    const ledger = await p.close();
    expect(ledger.map((e) => [e.host, e.allowed, e.reason])).toEqual([
      ['other.test', false, 'not_on_allowlist'],
      ['registry.test', false, 'port_not_allowed'],
      ['127.0.0.1', false, 'ip_literal'],
      ['registry.test', false, 'not_connect'],
    ]);
    expect(server.sockets.size).toBe(0);
  });

  it('refuses an allowed name that resolves to loopback unless loopback is allowed, and one with any private address', async () => {
    const server = await echoServer();
    const strict = await proxy({ ports: [server.port] });
    expect((await through(strict.socketPath, connectTo('registry.test', server.port))).status).toBe('HTTP/1.1 403 Forbidden');
    const mixed = await proxy({
      ports: [443],
      lookup: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ],
    });
    expect((await through(mixed.socketPath, connectTo('registry.test', 443))).status).toBe('HTTP/1.1 403 Forbidden');
    const unresolved = await proxy({ lookup: async () => Promise.reject(new Error('ENOTFOUND')) });
    expect((await through(unresolved.socketPath, connectTo('registry.test', 443))).status).toBe('HTTP/1.1 502 Bad Gateway');
    expect((await strict.proxy.close()).map((e) => [e.reason, e.address])).toEqual([['private_address', '127.0.0.1']]);
    expect((await mixed.proxy.close()).map((e) => [e.reason, e.address])).toEqual([['private_address', '10.0.0.5']]);
    expect((await unresolved.proxy.close()).map((e) => e.reason)).toEqual(['resolve_failed']);
    expect(server.sockets.size).toBe(0);
  });

  it('closing removes the socket and ends a tunnel still open', async () => {
    const server = await echoServer();
    const { proxy: p, socketPath } = await proxy({ ports: [server.port], allowLoopback: true });
    const res = await through(socketPath, connectTo('registry.test', server.port));
    expect(res.body).toBe('pong:ping');
    const ended = new Promise((r) => res.socket.once('close', r));
    expect(existsSync(socketPath)).toBe(true);
    const ledger = await p.close();
    await ended;
    expect(existsSync(socketPath)).toBe(false);
    expect(ledger).toHaveLength(1);
    await expect(new Promise((resolve, reject) => connect(socketPath).once('connect', resolve).once('error', reject))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
