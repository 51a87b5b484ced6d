import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorMessage, isUserzError } from '../../errors.js';
import { codeToStatus, readBody, type Router } from '../../http/index.js';
import type { ConsoleSession } from '../context.js';
import { html, type Html } from '../html.js';
import { layout, sendPage } from '../layout.js';

/**
 * How the sign-in and member pages are served: errors become HTML pages with the code's
 * status (a 429 keeps its Retry-After), and forms are small urlencoded bodies.
 */
export type PageHandler = (req: IncomingMessage, res: ServerResponse, ctx: { params: Record<string, string>; url: URL; log: Logger }) => Promise<void>;

export function addPage(router: Router, method: 'GET' | 'POST', path: string, handler: PageHandler): void {
  router.add(method, path, async (req, res, ctx) => {
    try {
      await handler(req, res, ctx);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A form that failed before its body was read: drain it, so the connection is reusable.
      if (!req.readableEnded) req.resume();
      sendProblem(res, err, ctx.log);
    }
  });
}

export function sendProblem(res: ServerResponse, err: unknown, log: Logger, session: ConsoleSession | null = null): void {
  if (isUserzError(err)) {
    const status = codeToStatus(err.code);
    if (status >= 500) log.error({ code: err.code, err: errorMessage(err) }, 'Console page failed');
    const retry = err.details?.retryAfterSeconds;
    const headers: Record<string, string> = typeof retry === 'number' ? { 'retry-after': String(retry) } : {};
    const title = status === 404 ? 'Not found' : status === 429 ? 'Too many attempts' : 'That did not work';
    sendPage(res, status, layout({ title, session, body: html`<p class="error" role="alert" data-code="${err.code}">${err.message}</p>` }), headers);
    return;
  }
  log.error({ err: errorMessage(err) }, 'Unexpected error on a console page');
  sendPage(res, 500, layout({ title: 'Something went wrong', session, body: html`<p class="error" role="alert">Something went wrong on our side.</p>` }));
}

const FORM_LIMIT = 16 * 1024;

/** An urlencoded form body; anything else reads as empty. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const raw = await readBody(req, FORM_LIMIT);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded' ? new URLSearchParams(raw.toString('utf8')) : new URLSearchParams();
}

/** A path inside the console to go to after sign-in: our own absolute paths only. */
export function safeNext(next: string | null | undefined): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/';
}

export const field = (label: string, name: string, type: string, extra: Html | string = '') =>
  html`<p><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" type="${type}" ${extra} /></p>`;

export const hidden = (name: string, value: string) => html`<input type="hidden" name="${name}" value="${value}" />`;

export const notice = (text: string | undefined | null) => (text ? html`<p class="notice" role="status">${text}</p>` : '');
export const problem = (text: string | undefined | null) => (text ? html`<p class="error" role="alert">${text}</p>` : '');
