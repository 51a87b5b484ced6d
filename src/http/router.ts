import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { sendError } from './errors.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: { params: Record<string, string>; url: URL; log: Logger }) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: RouteHandler;
}

/**
 * A small router mounted into Probot's server with addHandler, so one HTTP server serves
 * GitHub webhooks, intake, the API and health. Paths use `:name` segments. Errors thrown
 * by handlers become JSON answers in http/errors.ts.
 */
export class Router {
  private readonly routes: Route[] = [];

  constructor(private readonly log: Logger) {}

  add(method: string, path: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\/:([a-zA-Z]+)/g, (_m, key: string) => {
        keys.push(key);
        return '/([^/]+)';
      })}$`,
    );
    this.routes.push({ method: method.toUpperCase(), pattern, keys, handler });
    return this;
  }

  /** Probot Handler: returns true when it answered the request. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://userz.local');
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      try {
        await route.handler(req, res, { params, url, log: this.log });
      } catch (err) {
        sendError(res, err, this.log);
      }
      return true;
    }
    if (pathMatched) {
      res.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'method_not_allowed', message: `${req.method} is not allowed here` } }));
      return true;
    }
    return false;
  };
}
