import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { UserzError } from '../errors.js';
import { sendError } from './errors.js';
import { codeToStatus } from './status.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: { params: Record<string, string>; url: URL; log: Logger }) => Promise<void> | void;

interface Route {
  method: string;
  /** `METHOD /path/:param`: the label metrics and logs use, never the raw path. */
  label: string;
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

  constructor(private readonly log: Logger) {
    const ref = new WeakRef(this);
    LIVE_ROUTERS.add(ref);
    FORGET_ROUTER.register(this, ref);
  }

  /** The label the router would match `method` and `rawUrl` with, without handling the request. */
  labelOf(method: string, rawUrl: string | undefined): string | undefined {
    const url = requestUrl(rawUrl);
    if (!url) return undefined;
    const pathname = url.pathname.replace(/(?<=.)\/+$/, '');
    let pathOnly: string | undefined;
    for (const route of this.routes) {
      if (!route.pattern.test(pathname)) continue;
      if (route.method === method) return route.label;
      pathOnly ??= route.label.slice(route.method.length + 1);
    }
    return pathOnly;
  }

  add(method: string, path: string, handler: RouteHandler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\/:([a-zA-Z]+)/g, (_m, key: string) => {
        keys.push(key);
        return '/([^/]+)';
      })}$`,
    );
    this.routes.push({ method: method.toUpperCase(), label: `${method.toUpperCase()} ${path}`, pattern, keys, handler });
    return this;
  }

  /** Probot Handler: returns true when it answered the request. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = requestUrl(req.url);
    if (!url) {
      sendError(res, badPathEncoding(), this.log);
      return true;
    }
    // Trailing slashes do not name another resource. Probot's webhook middleware strips them
    // too, so without this `/api/github/webhooks/` would bypass our route (cap, schema, errors).
    const pathname = url.pathname.replace(/(?<=.)\/+$/, '');
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      if (!pathMatched) MATCHED.set(req, route.label.slice(route.method.length + 1));
      pathMatched = true;
      if (route.method !== req.method) continue;
      MATCHED.set(req, route.label);
      try {
        const params = Object.fromEntries(route.keys.map((k, i) => [k, decodePathSegment(m[i + 1]!)]));
        await route.handler(req, res, { params, url, log: this.log });
      } catch (err) {
        sendError(res, err, this.log);
      }
      return true;
    }
    if (pathMatched) {
      res
        .writeHead(codeToStatus('method_not_allowed'), { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'method_not_allowed', message: `${req.method} is not allowed here` } }));
      return true;
    }
    return false;
  };
}

const MATCHED = new WeakMap<IncomingMessage, string>();

// The process's routers, so a request answered before any router saw it (shed under load)
// is still counted under its route pattern; a router that is no longer used is forgotten.
const LIVE_ROUTERS = new Set<WeakRef<Router>>();
const FORGET_ROUTER = new FinalizationRegistry<WeakRef<Router>>((ref) => LIVE_ROUTERS.delete(ref));

/** The route pattern some live router has for this request, without handling it; undefined when none has. */
export function routeOf(req: IncomingMessage): string | undefined {
  for (const ref of LIVE_ROUTERS) {
    const label = ref.deref()?.labelOf(req.method ?? 'GET', req.url);
    if (label) return label;
  }
  return undefined;
}

/**
 * The route pattern a router matched for this request (`POST /api/v1/reports/:id/approve`;
 * only the path pattern when no route takes its method), or undefined when none matched.
 */
export function matchedRoute(req: IncomingMessage): string | undefined {
  return MATCHED.get(req);
}

/** The request's URL, or null when it cannot be parsed or its path is not valid percent-encoded UTF-8. */
function requestUrl(raw: string | undefined): URL | null {
  try {
    const url = new URL(raw ?? '/', 'http://userz.local');
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return null;
  }
}

/**
 * A path parameter as text we can store and compare: a bad percent-encoding (`%E0%A4%A`,
 * an encoded lone surrogate) or an encoded control character is the caller's mistake,
 * 400 `bad_path_encoding`, not ours.
 */
function decodePathSegment(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw badPathEncoding();
  }
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw badPathEncoding();
  return decoded;
}

const badPathEncoding = () => new UserzError('bad_path_encoding', 'The request path is not valid percent-encoded UTF-8');
