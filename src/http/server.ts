import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeMiddleware, type ApplicationFunction, type Probot } from 'probot';
import type { Logger } from 'pino';
import { responseErrorCode, sendError, sendJson } from './errors.js';
import { matchedRoute, routeOf } from './router.js';
import { installProcessGuard } from './process-guard.js';
import { DEFAULT_SHED, LoadShedder, shedLoad, wasShed, type ShedOptions } from './shed.js';
import { codeToStatus } from './status.js';

/** One answered request, as metrics see it: the route pattern (never the raw path) and the error code, if any. */
export interface RequestRecord {
  method: string;
  route: string | undefined;
  status: number;
  code: string | undefined;
  seconds: number;
}

export interface RunningServer {
  port: number;
  host: string;
  url: string;
  close(): Promise<void>;
}

/**
 * One HTTP server for everything: Probot's webhook middleware (GitHub at its standard
 * path /api/github/webhooks) and every handler the app adds with addHandler. We host the
 * Probot app with Probot's own createNodeMiddleware rather than its Server class so the
 * request log is ours: method, path without query, status, time, and no headers.
 */
export async function startHttpServer(opts: {
  probot: Probot;
  appFn: ApplicationFunction;
  log: Logger;
  port: number;
  host: string;
  shed?: ShedOptions | false;
  /** Called once per answered request (metrics). */
  onRequest?: (r: RequestRecord) => void;
}): Promise<RunningServer> {
  const middleware = await createNodeMiddleware(opts.appFn, { probot: opts.probot });
  const log = opts.log.child({ name: 'http' });
  installProcessGuard(opts.log);
  const shedder = opts.shed === false ? undefined : new LoadShedder(opts.shed ?? DEFAULT_SHED);
  const serve = shedLoad(shedder, log, (req: IncomingMessage, res: ServerResponse) => {
    // A handler that throws synchronously, or rejects, still gets a JSON 500 and the
    // server keeps serving; Probot's own catch would answer an empty 500.
    const notFound = () => sendJson(res, codeToStatus('not_found'), { error: { code: 'not_found', message: 'No such route' } });
    new Promise<unknown>((resolve) => resolve(middleware(req, res, notFound))).catch((err: unknown) => sendError(res, err, log));
  });
  // Shed answers are counted too: under their route pattern (no router saw them) and code `overloaded`.
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.debug({ method: req.method, path: (req.url ?? '').split('?')[0], status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'Request handled');
      if (!opts.onRequest) return;
      const shed = wasShed(res);
      const route = matchedRoute(req) ?? (shed ? routeOf(req) : undefined);
      opts.onRequest({
        method: req.method ?? 'GET',
        route,
        status: res.statusCode,
        code: responseErrorCode(res) ?? (shed ? 'overloaded' : undefined),
        seconds: ms / 1000,
      });
    });
    serve(req, res);
  });
  server.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts
  return listen(server, opts);
}

/** Listens on `port` (0 = any free port) and `host`; close() stops taking connections and ends idle ones. */
export async function listen(server: Server, opts: { port: number; host: string }): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    port: address.port,
    host,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
