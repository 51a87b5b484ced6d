/**
 * A small GitHub REST client over fetch: one credential per instance, retries with backoff
 * for 5xx, 429, secondary rate limits and network failures, UserzErrors for the rest. We do
 * not use an Octokit here so that the token a run holds is the only credential in play,
 * redirects are followed by hand (the archive host never sees our Authorization header) and
 * archive bodies stay streams.
 */
import { Readable } from 'node:stream';
import { forgeHttpError, forgeNetworkError } from '../errors.js';
import { retryAfterMs, withRetry, type RetryPolicy } from '../retry.js';

export const GITHUB_API = 'https://api.github.com';
const MAX_REDIRECTS = 3;

export interface GitHubRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string>;
}

export class GitHubHttp {
  readonly baseUrl: string;
  readonly #authorization: string;
  readonly #retry: RetryPolicy;

  /** `authorization` is the full header value: `Bearer <app-jwt>` or `token <installation-token>`. */
  constructor(opts: { baseUrl: string | null; authorization: string; retry: RetryPolicy }) {
    this.baseUrl = (opts.baseUrl || GITHUB_API).replace(/\/+$/, '');
    this.#authorization = opts.authorization;
    this.#retry = opts.retry;
  }

  /** JSON request; `operation` is the fixed label errors carry. */
  async request<T>(operation: string, path: string, req: GitHubRequest = {}): Promise<T> {
    return withRetry(async () => {
      const res = await this.#send(operation, this.#url(path, req.query), req.method ?? 'GET', req.body);
      if (res.status >= 300) {
        // A moved repository answers 301; its body is not the answer we asked for.
        await res.body?.cancel();
        throw forgeHttpError('GitHub', res.status, operation);
      }
      if (res.status === 204) return undefined as T;
      return (await res.json()) as T;
    }, this.#retry);
  }

  /** Like `request`, but a 404 is an answer: null. */
  async find<T>(operation: string, path: string, req: GitHubRequest = {}): Promise<T | null> {
    try {
      return await this.request<T>(operation, path, req);
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === 'forge_not_found') return null;
      throw e;
    }
  }

  /** A GET whose body is streamed, following redirects (the tarball lives on another host). */
  async stream(operation: string, path: string): Promise<Readable> {
    return withRetry(async () => {
      let url = this.#url(path);
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const sameOrigin = url.origin === new URL(this.baseUrl).origin;
        const res = await this.#send(operation, url, 'GET', undefined, sameOrigin);
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
          await res.body?.cancel();
          const next = new URL(location, url);
          if (next.protocol !== 'https:' && next.protocol !== url.protocol) throw forgeHttpError('GitHub', res.status, operation);
          url = next;
          continue;
        }
        if (!res.body) throw forgeHttpError('GitHub', 502, operation);
        return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      }
      throw forgeHttpError('GitHub', 310, operation);
    }, this.#retry);
  }

  #url(path: string, query?: Record<string, string>): URL {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    return url;
  }

  /** One attempt. Resolves with 2xx/3xx responses, throws a UserzError for everything else. */
  async #send(operation: string, url: URL, method: string, body: unknown, withAuth = true): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'userz',
    };
    if (withAuth) headers.authorization = this.#authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    } catch {
      // The cause is dropped on purpose: it can hold the request, headers included.
      throw forgeNetworkError('GitHub', operation);
    }
    if (res.status < 400) return res;
    await res.body?.cancel();
    const rateLimited = res.headers.get('x-ratelimit-remaining') === '0' || res.headers.has('retry-after');
    throw forgeHttpError('GitHub', res.status, operation, { rateLimited, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
  }
}
