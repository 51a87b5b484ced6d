/**
 * The Docker client the driver uses: dockerode, with its plain request/response calls sent
 * over a socket of our own instead of node:http. HTTP interceptors in the same process
 * (nock 14 through @mswjs/interceptors, active in tests that also run real sandboxes) replay
 * Unix-socket requests and fail some with EPIPE before Docker answers (seen here on exec
 * creation; mswjs/interceptors#760). Streams and upgrades keep dockerode's own path; execs
 * attach through exec-attach.ts.
 */
import { connect } from 'node:net';
import Docker from 'dockerode';

interface RequestOptions {
  path: string;
  method: string;
  headers: Record<string, string | number>;
  socketPath?: string;
}
interface RequestContext {
  isStream?: boolean;
  hijack?: boolean;
  openStdin?: boolean;
  statusCodes: Record<number, unknown>;
}
type Callback = (err: unknown, data: unknown) => void;
interface Modem {
  protocol?: string;
  buildRequest(options: RequestOptions, context: RequestContext, data: unknown, callback: Callback): void;
  buildPayload(err: unknown, isStream: boolean, statusCodes: unknown, openStdin: boolean, req: unknown, res: unknown, json: unknown, cb: Callback): void;
  __userzRaw?: true;
}

function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** One request on a fresh connection (Connection: close), the whole answer read to its end. */
function rawRequest(options: RequestOptions, data: string | Buffer | undefined): Promise<{ statusCode: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: options.socketPath! });
    const chunks: Buffer[] = [];
    const finish = () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error('Docker sent an incomplete response'));
      const head = all.subarray(0, split).toString('latin1');
      const statusCode = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
      const body = all.subarray(split + 4);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
      if (length !== undefined && body.length < Number(length)) return reject(new Error('Docker sent a truncated response'));
      resolve({ statusCode, body: /\r\ntransfer-encoding:\s*chunked/i.test(head) ? decodeChunked(body) : body });
    };
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', finish);
    let writeFailed: NodeJS.ErrnoException | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // Docker answers some calls (rename) without reading the JSON body dockerode sends, then
      // closes: the unread body turns the close into a reset (ECONNRESET) after a complete
      // answer, or our write of that body fails (EPIPE) before we read the answer. Either
      // way the answer decides, once the socket has closed.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') writeFailed = e;
      else reject(e);
    });
    socket.on('close', () => {
      if (!writeFailed) return;
      if (Buffer.concat(chunks).includes('\r\n\r\n')) finish();
      else reject(writeFailed);
    });
    const headers = { ...options.headers, Host: 'docker', Connection: 'close' } as Record<string, string | number>;
    if (data !== undefined) headers['Content-Length'] = Buffer.byteLength(data);
    const head = [`${options.method} ${options.path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    socket.write(head);
    if (data !== undefined) socket.write(data);
  });
}

export function createDockerClient(docker: Docker = new Docker()): Docker {
  const modem = docker.modem as unknown as Modem;
  if (modem.__userzRaw) return docker;
  const original = modem.buildRequest.bind(modem);
  modem.buildRequest = (options, context, data, callback) => {
    const plain = typeof data === 'string' || Buffer.isBuffer(data) || data === undefined;
    if (!options.socketPath || context.isStream || context.hijack || context.openStdin || !plain || modem.protocol === 'ssh') {
      original(options, context, data, callback);
      return;
    }
    rawRequest(options, data as string | Buffer | undefined).then(
      ({ statusCode, body }) => {
        let json: unknown = body;
        try {
          json = body.length > 0 ? JSON.parse(body.toString('utf8')) : body;
        } catch {
          // Not JSON (ping answers "OK"): dockerode then gets the Buffer, as with node:http.
        }
        modem.buildPayload(null, false, context.statusCodes, false, {}, { statusCode }, json, callback);
      },
      (err: unknown) => modem.buildPayload(err, false, context.statusCodes, false, {}, {}, null, callback),
    );
  };
  modem.__userzRaw = true;
  return docker;
}
