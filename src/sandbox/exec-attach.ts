/**
 * Starts a Docker exec and returns its raw multiplexed stream, speaking the attach
 * protocol (HTTP upgrade to a raw TCP stream) on a socket of our own. Going around
 * node:http keeps stdin's half-close intact where HTTP interceptors wrap requests (nock in
 * the test suite buffers upgraded sockets and never delivers stdin's end to Docker).
 * The socket comes back paused: resume it once its reader is attached.
 */
import { connect, type Socket } from 'node:net';
import type Docker from 'dockerode';

interface ModemWithSocket {
  getSocketPath?: () => Promise<string | undefined> | undefined;
  version?: string;
}

export async function attachExec(docker: Docker, execId: string): Promise<Socket> {
  const modem = docker.modem as unknown as ModemWithSocket;
  const socketPath = await modem.getSocketPath?.();
  if (!socketPath) throw new Error('The sandbox driver needs Docker on a Unix socket');
  const body = JSON.stringify({ Detach: false, Tty: false });
  const prefix = modem.version ? `/${modem.version}` : '';
  const socket = connect({ path: socketPath, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    [
      `POST ${prefix}/exec/${encodeURIComponent(execId)}/start HTTP/1.1`,
      'Host: docker',
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: Upgrade',
      'Upgrade: tcp',
      '',
      body,
    ].join('\r\n'),
  );
  // Read the response head; whatever follows it is already the raw stream.
  const rest = await new Promise<Buffer>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 64 * 1024) fail(new Error('Docker sent an oversized response head'));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
      socket.pause();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'))?.[1];
      if (status !== '101' && status !== '200') {
        socket.destroy();
        return reject(new Error(`Docker refused the exec attach: ${head.subarray(0, 200).toString('latin1').split('\r\n')[0]}`));
      }
      resolve(head.subarray(end + 4));
    };
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    const onEnd = () => fail(new Error('Docker closed the exec attach'));
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('end', onEnd);
  });
  if (rest.length > 0) socket.unshift(rest);
  return socket;
}
