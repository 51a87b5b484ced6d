import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { UserzErrorCode } from '../error-codes.js';
import { UserzError } from '../errors.js';
import { parseJson, readBody, requireContentType, sendJson, type Router } from '../http/index.js';
import type { VerifiedApiKey } from '../security/index.js';
import { keyPrincipal, requirePermission, type Permission, type Principal } from '../tenant/index.js';

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A response that is not JSON (a download, a redirect): the handler writes it itself and returns `{ status, sent: true }`. */
export interface OtherResponse {
  description: string;
  contentType?: string;
}

export type ApiResponses = Record<number, z.ZodType | OtherResponse>;

export interface ApiBodySpec<B extends z.ZodType> {
  schema: B;
  /** An empty body is allowed and reaches the handler as undefined. */
  optional?: boolean;
  /** Bytes; default 64 KiB. */
  limit?: number;
  /** Refuse a body without `Content-Type: application/json` (415); default true. */
  requireJson?: boolean;
  /** The code of a body the schema refuses; default `invalid_payload` (older routes keep theirs). */
  invalidCode?: 'invalid_payload' | 'invalid_request' | 'invalid_input';
  /** One fixed message for a refused body instead of the schema's issues. */
  invalidMessage?: string;
}

/**
 * One `/api/v1` route: what it takes, what it answers, which permission it needs and
 * which error codes it raises. The same object parses the request (ApiRoutes.add) and
 * describes the route in the OpenAPI document (openapi.ts), so the two cannot differ.
 */
export interface ApiRouteSpec<Q extends z.ZodObject | undefined, B extends z.ZodType | undefined, R extends ApiResponses> {
  method: ApiMethod;
  /** `/api/v1/apps/:id`; each `:name` is a string path parameter. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  permission: Permission;
  /** Query parameters, each a string in; unknown and repeated parameters are refused. */
  query?: Q;
  body?: B extends z.ZodType ? ApiBodySpec<B> : undefined;
  /** Success answers by status. */
  responses: R;
  /** The codes this route raises beyond the ones every route shares (authentication, the request edge). */
  errors?: readonly UserzErrorCode[];
}

type JsonAnswer<S extends number, T extends z.ZodType> = { status: S; body: z.input<T>; headers?: Record<string, string> };
type SentAnswer<S extends number> = { status: S; sent: true };

/** What a handler returns: one of its declared answers, typed by the response schema of that status. */
export type ApiAnswer<R extends ApiResponses> = {
  [S in keyof R & number]: R[S] extends z.ZodType ? JsonAnswer<S, R[S]> : SentAnswer<S>;
}[keyof R & number];

export interface ApiContext<Q extends z.ZodObject | undefined, B extends z.ZodType | undefined> {
  principal: Principal;
  params: Record<string, string>;
  query: Q extends z.ZodObject ? z.output<Q> : Record<string, never>;
  body: B extends z.ZodType ? z.output<B> : undefined;
  req: IncomingMessage;
  res: ServerResponse;
  log: Logger;
}

/** A route as the document needs it (the handler is not kept here). */
export interface RegisteredRoute {
  spec: ApiRouteSpec<z.ZodObject | undefined, z.ZodType | undefined, ApiResponses>;
}

const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * The `/api/v1` routes that take an `sk_` key: each is declared once with its zod schemas
 * and mounted on the router. Every request is authenticated (the process's one verifier),
 * turned into a Principal (keyPrincipal), checked for the route's permission (403
 * `insufficient_scope` naming the missing scope) and parsed before the handler runs.
 */
export class ApiRoutes {
  private readonly registered: RegisteredRoute[] = [];

  constructor(
    private readonly router: Router,
    private readonly verifyKey: (req: IncomingMessage) => Promise<VerifiedApiKey>,
  ) {}

  /** Declares a route; `.handle(fn)` mounts it (two steps, so the handler's answers are checked against this spec's responses). */
  add<Q extends z.ZodObject | undefined = undefined, B extends z.ZodType | undefined = undefined, R extends ApiResponses = ApiResponses>(
    spec: ApiRouteSpec<Q, B, R>,
  ): { handle: (handler: (ctx: ApiContext<Q, B>) => Promise<ApiAnswer<R>>) => void } {
    return { handle: (handler) => this.mount(spec, handler) };
  }

  private mount<Q extends z.ZodObject | undefined, B extends z.ZodType | undefined, R extends ApiResponses>(
    spec: ApiRouteSpec<Q, B, R>,
    handler: (ctx: ApiContext<Q, B>) => Promise<ApiAnswer<R>>,
  ): void {
    this.registered.push({ spec: spec as unknown as RegisteredRoute['spec'] });
    const query = spec.query?.strict();
    this.router.add(spec.method, spec.path, async (req, res, { params, url, log }) => {
      const principal = keyPrincipal(await this.verifyKey(req));
      requirePermission(principal, spec.permission);
      const parsedQuery = query ? parseQuery(query, url) : {};
      const body = spec.body ? await parseBody(req, spec.body as ApiBodySpec<z.ZodType>) : undefined;
      const answer = (await handler({
        principal,
        params,
        query: parsedQuery as ApiContext<Q, B>['query'],
        body: body as ApiContext<Q, B>['body'],
        req,
        res,
        log,
      })) as { status: number; body?: unknown; headers?: Record<string, string>; sent?: true };
      if (!answer.sent) sendJson(res, answer.status, answer.body, answer.headers);
    });
  }

  /** Every route declared so far, in order. */
  routes(): readonly RegisteredRoute[] {
    return this.registered;
  }
}

function parseQuery(schema: z.ZodObject, url: URL): unknown {
  const raw: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (name in raw) throw new UserzError('invalid_payload', `Invalid query: ${name} is given more than once`);
    // Postgres refuses NUL in text: a value holding one would be a 500, not a 400.
    if (value.includes('\u0000')) throw new UserzError('invalid_payload', `Invalid query: ${name} holds a NUL character`);
    raw[name] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UserzError('invalid_payload', `Invalid query: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

async function parseBody(req: IncomingMessage, spec: ApiBodySpec<z.ZodType>): Promise<unknown> {
  const raw = await readBody(req, spec.limit ?? DEFAULT_BODY_LIMIT);
  if (raw.length === 0 && spec.optional) return undefined;
  if (spec.requireJson !== false) requireContentType(req, 'application/json');
  const parsed = spec.schema.safeParse(parseJson(raw));
  if (parsed.success) return parsed.data;
  throw new UserzError(spec.invalidCode ?? 'invalid_payload', spec.invalidMessage ?? `Invalid body: ${describeIssues(parsed.error.issues)}`);
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || (i.code === 'unrecognized_keys' ? '' : 'value')} ${i.message}`.trim())
    .join('; ');
}
