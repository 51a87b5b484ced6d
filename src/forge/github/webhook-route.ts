import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Probot } from 'probot';
import { UserzError, isUserzError } from '../../errors.js';
import { parseJson, readBody, requireContentType, sendJson, type Router } from '../../http/index.js';
import { checkGitHubPayload } from './webhook-payloads.js';

/** The event Probot receives (@octokit/webhooks' type, through Probot: we do not depend on that package ourselves). */
type ProbotEvent = Parameters<Probot['receive']>[0];

/** GitHub's own cap on a webhook payload; a bigger body is not from GitHub. */
export const GITHUB_WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;
/** GitHub gives up on a delivery after 10 s; answer 202 before that if a handler is slow. */
const HANDLER_DEADLINE_MS = 9_000;

// ignoreBOM keeps a leading BOM in the text, so the HMAC is checked over exactly the bytes sent.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `POST /api/github/webhooks`, at the path Probot's middleware would serve (our router
 * runs first, so this is the one that answers). The order is the point: headers, then the
 * body read up to GitHub's 25 MB cap (413 at the cap, before any HMAC work), then
 * X-Hub-Signature-256 through Probot's own verifier, then JSON with bounded depth, then
 * the event's schema (webhook-payloads.ts). Only a payload that passes all of it reaches
 * the handlers registered with `app.on`; events Userz does not handle are acknowledged
 * and dropped. Every refusal and every handler failure is our JSON error, never the
 * exception's text.
 */
export function registerGitHubWebhookRoute(router: Router, deps: { probot: Probot; log: Logger }): void {
  router.add('POST', '/api/github/webhooks', async (req, res) => {
    requireContentType(req, 'application/json');
    const id = header(req, 'x-github-delivery');
    const name = header(req, 'x-github-event');
    const signature = header(req, 'x-hub-signature-256');
    if (!id || !name || !signature) {
      throw new UserzError('missing_webhook_headers', 'X-GitHub-Delivery, X-GitHub-Event and X-Hub-Signature-256 are required');
    }
    const log = deps.log.child({ deliveryId: id.slice(0, 100), event: name.slice(0, 100) });
    const text = decodeUtf8(await readBody(req, GITHUB_WEBHOOK_BODY_LIMIT));
    const signed = await deps.probot.webhooks.verify(text, signature).catch(() => false);
    if (!signed) throw new UserzError('bad_signature', 'X-Hub-Signature-256 does not match the payload');

    const checked = checkGitHubPayload(name, parseJson(text));
    if (checked.kind === 'ignored') return sendJson(res, 200, { ok: true, ignored: 'event_not_handled' });
    if (checked.kind === 'invalid') {
      log.warn({ issue: checked.issue.slice(0, 200) }, 'GitHub delivery refused: payload does not match the event schema');
      throw new UserzError('invalid_payload', `The ${name} payload does not have the documented shape`);
    }
    const event = { id, name, payload: checked.payload } as ProbotEvent;
    let outcome: 'done' | 'late';
    try {
      outcome = await withDeadline(deps.probot.receive(event), HANDLER_DEADLINE_MS, (e) =>
        log.error({ errorName: errorName(e) }, 'GitHub handler failed after the delivery was answered'),
      );
    } catch (e) {
      throw handlerFailure(e);
    }
    if (outcome === 'late') return sendJson(res, 202, { ok: true, status: 'processing' });
    sendJson(res, 200, { ok: true });
  });
}

/** A handler's failure as one of our errors: a UserzError it threw, else a bug (logged, 500). */
export function handlerFailure(err: unknown): unknown {
  const inner = err instanceof AggregateError ? [...err.errors][0] : err;
  return isUserzError(inner) ? inner : err;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new UserzError('invalid_utf8', 'The request body is not UTF-8');
  }
}

async function withDeadline(work: Promise<void>, ms: number, onLateFailure: (e: unknown) => void): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  let answered = false;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const done = work.then(() => 'done' as const);
  // A handler that fails after we answered 202 is logged here, never left unhandled.
  done.catch((e: unknown) => {
    if (answered) onLateFailure(e);
  });
  try {
    return await Promise.race([done, late]);
  } finally {
    answered = true;
    clearTimeout(timer);
  }
}

const errorName = (e: unknown) => (e instanceof Error ? e.name : typeof e);
