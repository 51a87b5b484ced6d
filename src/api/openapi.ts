import { z } from 'zod';
import type { UserzErrorCode } from '../error-codes.js';
import { codeToStatus } from '../http/index.js';
import type { ApiRoutes, OtherResponse, RegisteredRoute } from './route.js';

type Json = Record<string, unknown>;

/** Raised by every route: the key, its limits, the request edge. */
const AUTH_CODES: readonly UserzErrorCode[] = ['invalid_api_key', 'rate_limited', 'api_key_verification_busy'];
const EDGE_CODES: readonly UserzErrorCode[] = ['bad_path_encoding', 'overloaded', 'internal_error'];
const BODY_CODES: readonly UserzErrorCode[] = ['body_too_large', 'malformed_json', 'json_too_deep', 'invalid_utf8'];

/** The scope an `sk_` key needs for each permission (tenant/principal.ts). */
const SCOPE_OF: Record<string, string> = { read: 'read', decide: 'write', edit: 'write', admin: 'admin', erase: 'admin' };

/** Every error code a route can answer with, in a stable order. */
export function routeErrorCodes(spec: RegisteredRoute['spec']): UserzErrorCode[] {
  const codes = new Set<UserzErrorCode>([...AUTH_CODES, ...EDGE_CODES]);
  if (spec.permission !== 'read') codes.add('insufficient_scope');
  if (spec.query) codes.add('invalid_payload');
  if (spec.body) {
    for (const c of BODY_CODES) codes.add(c);
    if (spec.body.requireJson !== false) codes.add('unsupported_media_type');
    codes.add(spec.body.invalidCode ?? 'invalid_payload');
  }
  for (const c of spec.errors ?? []) codes.add(c);
  return [...codes];
}

/** A zod schema as a JSON Schema 2020-12 fragment (OpenAPI 3.1 uses that dialect as is). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

function errorSchema(codes: readonly string[]): Json {
  return {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: { code: { type: 'string', enum: [...codes] }, message: { type: 'string' } },
      },
    },
  };
}

const isOther = (r: z.ZodType | OtherResponse): r is OtherResponse => !(r instanceof z.ZodType);

function operation(spec: RegisteredRoute['spec']): Json {
  const parameters: Json[] = [...spec.path.matchAll(/:([a-zA-Z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  for (const [name, field] of Object.entries(spec.query?.shape ?? {})) {
    const schema = jsonSchema(field as z.ZodType, 'input');
    const { description, ...rest } = schema;
    parameters.push({ name, in: 'query', required: !(field as z.ZodType).safeParse(undefined).success, schema: rest, ...(description ? { description } : {}) });
  }
  const responses: Json = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    if (isOther(response)) {
      responses[status] = { description: response.description, ...(response.contentType ? { content: { [response.contentType]: {} } } : {}) };
    } else {
      responses[status] = { description: response.description ?? 'OK', content: { 'application/json': { schema: jsonSchema(response, 'output') } } };
    }
  }
  const byStatus = new Map<number, UserzErrorCode[]>();
  for (const code of routeErrorCodes(spec)) byStatus.set(codeToStatus(code), [...(byStatus.get(codeToStatus(code)) ?? []), code]);
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[String(status)] = { description: `Error: ${codes.join(', ')}`, content: { 'application/json': { schema: errorSchema(codes) } } };
  }
  const scope = SCOPE_OF[spec.permission]!;
  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    description: [spec.description, `Needs an \`sk_\` key with the \`${scope}\` scope.`].filter(Boolean).join('\n\n'),
    security: [{ apiKey: [] }],
    'x-required-scope': scope,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? { requestBody: { required: !spec.body.optional, content: { 'application/json': { schema: jsonSchema(spec.body.schema, 'input') } } } }
      : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of every route declared on `api`, built from the same zod
 * schemas that parse the requests: nothing in it is written by hand.
 */
export function openApiDocument(api: ApiRoutes, info: { version: string; serverUrl?: string }): Json {
  const paths: Record<string, Json> = {};
  const allCodes = new Set<string>();
  for (const { spec } of api.routes()) {
    const path = spec.path.replace(/:([a-zA-Z]+)/g, '{$1}');
    paths[path] = { ...paths[path], [spec.method.toLowerCase()]: operation(spec) };
    for (const c of routeErrorCodes(spec)) allCodes.add(c);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Userz API',
      version: info.version,
      description:
        'Every route takes an `sk_` key as `Authorization: Bearer sk_…`. A key carries scopes: `read` (every GET), `write` (plus decisions on held reports and App/repository edits), `admin` (plus keys, settings and deletion). A missing scope is answered 403 `insufficient_scope`, naming it. Lists are newest first, a page at a time: pass `nextCursor` back as `cursor`; `limit` is 1 to 100 (default 50). Errors are `{"error": {"code", "message"}}` with the codes listed per response.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An `sk_` API key of the org' } },
      schemas: { Error: errorSchema([...allCodes].sort()) },
    },
  };
}
