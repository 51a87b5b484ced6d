// The API's OpenAPI document as a test oracle: every call an API test makes through
// `apiClient` is checked against GET /api/v1/openapi.json, so the document cannot drift
// from what the server accepts and answers.
//   - every answer must be documented for its route and status, and its JSON body must
//     match that response's schema (errors included: their code must be listed);
//   - a request the server accepted (2xx) must be one the document allows: its query
//     parameters declared and valid, its body valid against the request schema.
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';

type Json = Record<string, any>;
type AjvInstance = import('ajv').default;

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as new (opts: object) => AjvInstance;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: AjvInstance) => void;

export interface ApiCall {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Checks calls against one OpenAPI 3.1 document. */
export class OpenApiChecker {
  private readonly ajv: AjvInstance;
  /** Query values arrive as strings: validated with type coercion, as a server would read them. */
  private readonly queryAjv: AjvInstance;
  private readonly compiled = new Map<object, ValidateFunction>();
  private readonly compiledQuery = new Map<object, ValidateFunction>();
  private readonly routes: Array<{ template: string; pattern: RegExp; params: number }>;
  /** Every (method, path template, status) a test answered, for coverage checks. */
  readonly seen = new Set<string>();

  constructor(readonly doc: Json) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    this.queryAjv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true });
    addFormats(this.ajv);
    addFormats(this.queryAjv);
    this.routes = Object.keys(doc.paths ?? {})
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
        params: (template.match(/\{/g) ?? []).length,
      }))
      // A literal segment wins over a parameter (/api-keys before /{id}).
      .sort((a, b) => a.params - b.params);
  }

  /** Throws, with what differs, when the call is not one the document describes. */
  check(method: string, url: URL, requestBody: unknown, answer: { status: number; json: unknown; contentType: string | null }): void {
    const route = this.routes.find((r) => r.pattern.test(url.pathname));
    const where = `${method} ${url.pathname}${url.search} → ${answer.status}`;
    if (!route) throw new Error(`${where}: the path is not in the OpenAPI document`);
    const op = this.doc.paths[route.template]?.[method.toLowerCase()] as Json | undefined;
    if (!op) throw new Error(`${where}: ${method} ${route.template} is not in the OpenAPI document`);
    this.seen.add(`${method.toUpperCase()} ${route.template} ${answer.status}`);

    const response = op.responses?.[String(answer.status)] as Json | undefined;
    if (!response) throw new Error(`${where}: status ${answer.status} is not documented (documented: ${Object.keys(op.responses ?? {}).join(', ')})`);
    const schema = response.content?.['application/json']?.schema as object | undefined;
    if (schema) {
      if (!answer.contentType?.startsWith('application/json')) throw new Error(`${where}: answered ${answer.contentType}, documented JSON`);
      this.validate(this.ajv, schema, answer.json, `${where}: response body`);
    }

    if (answer.status >= 200 && answer.status < 300) this.checkRequest(op, url, requestBody, where);
  }

  private checkRequest(op: Json, url: URL, body: unknown, where: string): void {
    const declared = new Map<string, Json>();
    for (const p of (op.parameters ?? []) as Json[]) if (p.in === 'query') declared.set(p.name as string, p);
    for (const [name, value] of url.searchParams) {
      const p = declared.get(name);
      if (!p) throw new Error(`${where}: query parameter ${name} is not documented`);
      this.validate(this.queryAjv, p.schema as object, value, `${where}: query parameter ${name}`, true);
    }
    for (const [name, p] of declared) if (p.required && !url.searchParams.has(name)) throw new Error(`${where}: required query parameter ${name} missing`);
    const rb = op.requestBody as Json | undefined;
    if (body !== undefined) {
      if (!rb) throw new Error(`${where}: a body was accepted but none is documented`);
      this.validate(this.ajv, rb.content['application/json'].schema as object, body, `${where}: request body`);
    } else if (rb?.required) {
      throw new Error(`${where}: accepted without the body the document requires`);
    }
  }

  private validate(ajv: AjvInstance, schema: object, value: unknown, what: string, wrapped = false): void {
    const cache = wrapped ? this.compiledQuery : this.compiled;
    let fn = cache.get(schema);
    if (!fn) {
      // A query value is validated inside an object, so coercion can turn "5" into 5.
      fn = ajv.compile(wrapped ? { type: 'object', properties: { v: schema } } : schema);
      cache.set(schema, fn);
    }
    if (!fn(wrapped ? { v: value } : value)) {
      throw new Error(`${what} does not match the document: ${ajv.errorsText(fn.errors as ErrorObject[])}\n${JSON.stringify(value).slice(0, 2000)}`);
    }
  }
}

/** The document is a valid OpenAPI 3.1 document (its own JSON Schema); returns the errors, [] when valid. */
export async function openApiDocumentErrors(doc: Json): Promise<unknown[]> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  return result.valid ? [] : ((result.errors as unknown[]) ?? ['invalid']);
}

export interface ApiClient {
  /** Calls the API with `key` as the bearer; a body object is sent as JSON. Checked against the document. */
  call(method: string, path: string, opts?: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<ApiCall>;
  checker: OpenApiChecker;
}

/** A client over fetch whose every call is checked; the document is fetched from the server itself unless given. */
export async function apiClient(baseUrl: string, doc?: Json): Promise<ApiClient> {
  const document = doc ?? ((await (await fetch(`${baseUrl}/api/v1/openapi.json`)).json()) as Json);
  const checker = new OpenApiChecker(document);
  return {
    checker,
    async call(method, path, opts = {}) {
      const url = new URL(path, baseUrl);
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.key) headers.authorization = `Bearer ${opts.key}`;
      let body: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(url, { method, headers, body, redirect: 'manual' });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      checker.check(method, url, opts.body ?? (opts.rawBody ? safeParse(opts.rawBody) : undefined), {
        status: res.status,
        json,
        contentType: res.headers.get('content-type'),
      });
      return { status: res.status, headers: res.headers, text, json };
    },
  };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
