/**
 * A @gitbeaker/rest client whose request handler is ours: gitbeaker's own retries 429 and
 * 502 ten times with sub-millisecond pauses. Ours retries 5xx, 429 and network failures
 * with backoff under the run's policy and turns failures into UserzErrors that carry the
 * status and a fixed operation label, never the token or the response body.
 */
import { Gitlab } from '@gitbeaker/rest';
// A dependency of @gitbeaker/rest at the same version; it builds the request options
// (auth header, snake_case bodies, query strings) exactly as gitbeaker's own requester does.
import { createRequesterFn } from '@gitbeaker/requester-utils';
import { forgeHttpError, forgeNetworkError } from '../errors.js';
import { DEFAULT_RETRY, retryAfterMs, withRetry, type RetryPolicy } from '../retry.js';

export const GITLAB_COM = 'https://gitlab.com';

export type GitLabApi = InstanceType<typeof Gitlab<false>>;

interface HandlerOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  searchParams?: string;
  prefixUrl?: string;
  asStream?: boolean;
  signal?: AbortSignal;
}

/** `projects/42/repository/files/a%2Fb` → `projects/:id/repository/files/:x`: a label without data. */
function operationOf(method: string, endpoint: string): string {
  const shape = endpoint
    .split('/')
    .map((part, i) => (i === 0 || /^[a-z_]+$/.test(part) ? part : ':x'))
    .join('/');
  return `${method} ${shape}`;
}

async function parseBody(res: Response, asStream: boolean): Promise<unknown> {
  if (asStream) return res.body;
  if (res.status === 204) return null;
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (type === 'application/json') return (await res.json()) ?? {};
  if (type.startsWith('text/')) return res.text();
  return res.blob();
}

function handlerFor(retry: RetryPolicy) {
  return async (endpoint: string, raw?: Record<string, unknown>) => {
    const { method = 'GET', headers, body, searchParams, prefixUrl = '', asStream = false, signal } = (raw ?? {}) as HandlerOptions;
    const url = new URL(endpoint, prefixUrl.endsWith('/') ? prefixUrl : `${prefixUrl}/`);
    url.search = searchParams ?? '';
    const operation = operationOf(method, endpoint);
    return withRetry(async () => {
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body, signal });
      } catch {
        // The cause is dropped on purpose: it can hold the request and its token header.
        throw forgeNetworkError('GitLab', operation);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw forgeHttpError('GitLab', res.status, operation, { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
      }
      const out = await parseBody(res, asStream);
      return { body: out, headers: Object.fromEntries(res.headers.entries()), status: res.status };
    }, retry);
  };
}

/**
 * One spelling per GitLab instance, as repos are keyed by it: '' for gitlab.com, else the
 * instance root without a trailing slash or `/api/v4`, host in lower case. Two spellings of
 * one instance would otherwise be two rows for one project.
 */
export function normalizeGitLabBaseUrl(baseUrl: string | null | undefined): string {
  if (!baseUrl) return '';
  const url = new URL(baseUrl);
  const root = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '').replace(/\/api\/v4$/, '')}`;
  return root === GITLAB_COM ? '' : root;
}

/** `baseUrl` null or empty = gitlab.com; self-managed: `https://gitlab.example.com` (or with `/api/v4`). */
export function createGitLabApi(opts: { baseUrl: string | null; token: string; retry?: RetryPolicy }): GitLabApi {
  return new Gitlab({
    // Accepts the instance root or its API base; gitbeaker adds /api/v4 itself.
    host: (opts.baseUrl || GITLAB_COM).replace(/\/+$/, '').replace(/\/api\/v4$/, ''),
    token: opts.token,
    requesterFn: createRequesterFn((_service, options) => Promise.resolve(options), handlerFor(opts.retry ?? DEFAULT_RETRY) as never),
  });
}
