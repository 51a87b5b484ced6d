import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { errorMessage, isUserzError, UserzError } from '../errors.js';
import { codeToStatus, readBody, toStorableText, type Router } from '../http/index.js';
import type { Principal } from '../tenant/index.js';
import type { ConsoleAuth, ConsoleSession } from './context.js';
import { html, href } from './html.js';
import { layout, redirect, sendPage } from './layout.js';

/**
 * How a console page is served: the signed-in member (or a 303 to /sign-in), the org they
 * look at as a Principal, and errors as HTML pages (a foreign or unknown id is a 404 page,
 * the same as an id that never existed). A POST checks CSRF before its handler runs.
 */
export interface MemberContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  session: ConsoleSession;
  principal: Principal;
}

export interface FormContext extends MemberContext {
  form: URLSearchParams;
}

/** Console forms are small: a reason of 500 characters plus the token fit many times over. */
const FORM_LIMIT = 16 * 1024;

export function addMemberPage(router: Router, auth: ConsoleAuth, path: string, handler: (ctx: MemberContext) => Promise<void>): void {
  router.add('GET', path, async (req, res, { params, url, log }) => {
    const session = await auth.session(req);
    if (!session) return signIn(res, url);
    await guarded(res, session, log, async () => {
      refuseNul(url);
      if (!session.principal) return noOrg(res, session);
      await handler({ req, res, url, params, session, principal: session.principal });
    });
  });
}

export function addMemberAction(router: Router, auth: ConsoleAuth, path: string, handler: (ctx: FormContext) => Promise<void>): void {
  router.add('POST', path, async (req, res, { params, url, log }) => {
    const session = await auth.session(req);
    if (!session) {
      await readBody(req, FORM_LIMIT).catch(() => undefined);
      return signIn(res, url);
    }
    await guarded(res, session, log, async () => {
      const form = await readForm(req);
      auth.checkCsrf(req, session, form.get('_csrf') ?? undefined);
      if (!session.principal) return noOrg(res, session);
      await handler({ req, res, url, params, session, principal: session.principal, form });
    });
  });
}

/** A NUL in a query value would reach Postgres, which refuses it in text (a 500): the address is refused instead. */
function refuseNul(url: URL): void {
  for (const value of url.searchParams.values()) if (value.includes('\u0000')) throw new UserzError('invalid_payload', 'The address holds a NUL character');
}

/** An urlencoded form body; anything else (a JSON body, a multipart upload) reads as empty. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const raw = await readBody(req, FORM_LIMIT);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  // Storable as JSON bodies are (no NUL, which Postgres refuses in text): each value through toStorableText.
  const form = new URLSearchParams();
  for (const [name, value] of new URLSearchParams(raw.toString('utf8'))) form.append(toStorableText(name), toStorableText(value));
  return form;
}

function signIn(res: ServerResponse, url: URL): void {
  redirect(res, href('/sign-in', { next: url.pathname === '/' ? undefined : url.pathname }));
}

function noOrg(res: ServerResponse, session: ConsoleSession): void {
  sendPage(
    res,
    200,
    layout({
      title: 'No organization yet',
      session,
      body: html`<p>You are signed in, but not a member of any organization. Ask an owner of your organization to invite you.</p>`,
    }),
  );
}

async function guarded(res: ServerResponse, session: ConsoleSession, log: Logger, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (isUserzError(err)) {
      const status = codeToStatus(err.code);
      if (status >= 500) log.error({ code: err.code, err: errorMessage(err) }, 'Console page failed');
      return sendErrorPage(res, session, status, status === 404 ? 'Not found' : 'That did not work', err.message);
    }
    log.error({ err: errorMessage(err) }, 'Unexpected error on a console page');
    sendErrorPage(res, session, 500, 'Something went wrong', 'Something went wrong on our side. Try again in a moment.');
  }
}

/** An HTML page for an answer that is not an error code (410 for an expired file). */
export function sendErrorPage(res: ServerResponse, session: ConsoleSession, status: number, title: string, message: string): void {
  sendPage(
    res,
    status,
    layout({
      title,
      session,
      body: html`<p class="error" role="alert">${message}</p>
        <p><a href="/">Back to the inbox</a></p>`,
    }),
  );
}
