import { REST, type RESTOptions } from '@discordjs/rest';

// @discordjs/rest types its fetch narrowly; the global fetch is what it calls (and what nock intercepts).
type RestRequest = RESTOptions['makeRequest'];
import { Routes } from 'discord-api-types/v10';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { reviewOutcomeMail, type Mailer } from '../mail/index.js';
import type { Notifier } from '../pipeline/index.js';
import { UserzError, errorMessage } from '../errors.js';
import { scrubText, type Vault } from '../security/index.js';
import type { Db } from '../store/index.js';
import { getApp, getSlackInstallation } from '../store/index.js';
import {
  claimReporterNotice,
  getReport,
  markReportNotified,
  markReporterNoticeSent,
  recordReportOutcome,
  type Report,
  type ReportOutcome,
} from '../store/index.js';
import type { ReviewOutcome } from '../store/index.js';

export type { ReportOutcome } from '../store/index.js';

export interface NotifierDeps {
  db: Db;
  vault: Vault;
  log: Logger;
  config: Pick<Config, 'discord'>;
  notifierFetch?: typeof fetch;
  slackApiUrl?: string;
  discordApiUrl?: string;
  /** Email to a reporter who left an address (the console's mailer); absent: no email. */
  mailer?: Mailer;
}

/**
 * Tells the reporter how their report ended, where they reported it: a Slack message in
 * the originating channel (the workspace's bot token), a Discord message in the channel
 * (the bot token: interaction tokens expire after 15 minutes), and for the widget the
 * outcome recorded on the report, which the status endpoint serves. Idempotent: the first
 * outcome is kept and a report is told once; a failed send throws a retryable error and a
 * retry sends again.
 */
export function createNotifier(deps: NotifierDeps): Notifier {
  const fetchImpl = deps.notifierFetch ?? fetch;
  return {
    async notifyReporter(ref, outcome) {
      await recordReportOutcome(deps.db, ref.id, publicOutcome(outcome));
      const report = await getReport(deps.db, ref.id);
      if (!report) throw new UserzError('report_not_found', `No report ${ref.id}`);
      if (report.notifiedAt) return;
      const text = messageFor(report.id, report.outcome ?? outcome);
      const reply = report.replyTo;
      try {
        if (reply?.kind === 'slack') await postSlack(deps, fetchImpl, report, reply, text);
        else if (reply?.kind === 'discord') await postDiscord(deps, fetchImpl, report, reply, text);
      } catch (e) {
        deps.log.warn({ reportId: report.id, channel: reply?.kind, err: errorMessage(e) }, 'Reporter notification failed');
        throw new UserzError('notify_failed', 'Could not tell the reporter', { retryable: true, cause: e });
      }
      await markReportNotified(deps.db, report.id);
      deps.log.info({ reportId: report.id, channel: reply?.kind ?? 'none', outcome: outcome.kind }, 'Reporter notified');
    },
    // The widget reads the recorded notice from its status endpoint; chat gets a message.
    async notifyReviewOutcome(ref, outcome, runId) {
      if (!(await claimReporterNotice(deps.db, { reportId: ref.id, runId, outcome }))) return;
      const report = await getReport(deps.db, ref.id);
      if (!report) throw new UserzError('report_not_found', `No report ${ref.id}`);
      const reply = report.replyTo;
      const text = reviewMessageFor(report.id, outcome);
      try {
        if (reply?.kind === 'slack') await postSlack(deps, fetchImpl, report, reply, text);
        else if (reply?.kind === 'discord') await postDiscord(deps, fetchImpl, report, reply, text);
      } catch (e) {
        deps.log.warn({ reportId: report.id, channel: reply?.kind, err: errorMessage(e) }, 'Reporter review notice failed');
        throw new UserzError('notify_failed', 'Could not tell the reporter', { retryable: true, cause: e });
      }
      const email = reporterEmailOf(report);
      if (email && deps.mailer) {
        try {
          await deps.mailer.send(reviewOutcomeMail(email, report.id, outcome));
        } catch (e) {
          deps.log.warn({ reportId: report.id, err: errorMessage(e) }, 'Reporter review email failed');
          // With a chat message out, a retry would repeat it: the email is given up. Otherwise it is retried.
          if (reply?.kind !== 'slack' && reply?.kind !== 'discord') {
            throw new UserzError('notify_failed', 'Could not email the reporter', { retryable: true, cause: e });
          }
        }
      }
      await markReporterNoticeSent(deps.db, report.id, outcome);
      deps.log.info({ reportId: report.id, channel: reply?.kind ?? 'none', outcome }, 'Reporter told of the review outcome');
    },
  };
}

// One address: no spaces or line breaks (no header injection), no list separators (one recipient), no display name.
const EMAIL = /^[^\s@<>,;:"()[\]\\]{1,64}@[^\s@<>,;:"()[\]\\]{1,253}\.[A-Za-z]{2,63}$/;

/** The address the reporter left with the report (`reporter.email`, as `Userz.setUser` sends it), when it is one. */
function reporterEmailOf(report: Report): string | null {
  const reporter = report.content.reporter;
  const email = reporter && typeof reporter === 'object' ? (reporter as Record<string, unknown>).email : undefined;
  return typeof email === 'string' && EMAIL.test(email.trim()) ? email.trim() : null;
}

/** Only what the reporter may see: the PR/MR link or a plain, short refusal reason. */
export function publicOutcome(outcome: ReportOutcome): ReportOutcome {
  if (outcome.kind === 'pr_opened') {
    const url = new URL(outcome.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UserzError('invalid_outcome', 'PR link must be http(s)');
    return { kind: 'pr_opened', url: url.toString() };
  }
  if (outcome.kind === 'refused') return { kind: 'refused', reason: plainReason(outcome.reason) };
  return { kind: 'failed' };
}

/** One line, no markup or mentions, bounded: a reason is shown in chat and in the widget. */
function plainReason(reason: string): string {
  const line = scrubText(reason)
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/[<>@*_`~|[\]]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
  return line || 'it was not something we could act on';
}

/** A chat reply names the report by id and carries no report text; it is scrubbed all the same. */
export function messageFor(reportId: string, outcome: ReportOutcome): string {
  return scrubText(unscrubbedMessageFor(reportId, outcome));
}

function unscrubbedMessageFor(reportId: string, outcome: ReportOutcome): string {
  switch (outcome.kind) {
    case 'pr_opened':
      return `Thanks for report ${reportId}: a fix is proposed for review: ${outcome.url}`;
    case 'refused':
      return `Report ${reportId} was not turned into a change: ${outcome.reason}.`;
    case 'failed':
      return `We could not finish work on report ${reportId}. A maintainer will look at it.`;
  }
}

/** The draft's fate, naming the report by id only: no report text, no repository content. */
function reviewMessageFor(reportId: string, outcome: ReviewOutcome): string {
  return outcome === 'merged'
    ? `Report ${reportId}: the proposed fix was merged. Thank you for reporting it.`
    : `Report ${reportId}: the proposed fix was closed without being merged. A maintainer may follow up another way.`;
}

async function postSlack(
  deps: NotifierDeps,
  fetchImpl: typeof fetch,
  report: Report,
  reply: Extract<Report['replyTo'], { kind: 'slack' }>,
  text: string,
): Promise<void> {
  const installation = await getSlackInstallation(deps.db, reply.teamId);
  if (!installation?.botTokenSecretId) throw new Error('workspace has no stored bot token');
  const token = await deps.vault.revealSecret(installation.botTokenSecretId, { actor: 'notifier', purpose: `tell reporter of ${report.id}` });
  const res = await fetchImpl(`${deps.slackApiUrl ?? 'https://slack.com/api/'}chat.postMessage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ channel: reply.channelId, thread_ts: reply.threadTs, text: `<@${reply.userId}> ${text}`, unfurl_links: false }),
  });
  const body = (await res.json().catch(() => ({}))) as { ok?: boolean; error?: string };
  if (!res.ok || !body.ok) throw new Error(`chat.postMessage failed: ${body.error ?? res.status}`);
}

async function postDiscord(
  deps: NotifierDeps,
  fetchImpl: typeof fetch,
  report: Report,
  reply: Extract<Report['replyTo'], { kind: 'discord' }>,
  text: string,
): Promise<void> {
  const app = await getApp(deps.db, report.appId);
  const token = app?.discordBotTokenSecretId
    ? await deps.vault.revealSecret(app.discordBotTokenSecretId, { actor: 'notifier', purpose: `tell reporter of ${report.id}` })
    : deps.config.discord?.botToken;
  if (!token) throw new Error('no Discord bot token for this App');
  const rest = new REST({ makeRequest: fetchImpl as unknown as RestRequest, api: deps.discordApiUrl ?? 'https://discord.com/api', retries: 1 }).setToken(token);
  await rest.post(Routes.channelMessages(reply.channelId), {
    body: { content: `<@${reply.userId}> ${text}`, allowed_mentions: { users: [reply.userId] } },
  });
}
