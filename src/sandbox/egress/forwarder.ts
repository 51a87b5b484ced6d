/**
 * The sandbox side of setup's egress path: a few lines of Node, run as the sandbox user,
 * that listen on 127.0.0.1 (the only interface a --network=none sandbox has) and hand
 * every connection to the proxy's Unix socket unchanged. Tools find it through
 * HTTPS_PROXY. It prints `ready <port>` once listening and exits when its stdin ends.
 * It grants nothing by itself: once the host removed the socket, it has nowhere to go.
 */
export const FORWARDER_SOURCE = String.raw`
const net = require('net');
const socketPath = process.argv[1];
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  const end = () => { client.destroy(); upstream.destroy(); };
  client.on('error', end); upstream.on('error', end);
  client.on('close', end); upstream.on('close', end);
  client.pipe(upstream); upstream.pipe(client);
});
server.on('error', (e) => { process.stderr.write('forwarder: ' + e.message + '\n'); process.exit(1); });
server.listen(0, '127.0.0.1', () => process.stdout.write('ready ' + server.address().port + '\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
`;

export const FORWARDER_READY = /^ready (\d{1,5})\n/;
