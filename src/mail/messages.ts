import type { MailMessage } from './mailer.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Plain text and the same in minimal HTML; names and org names are user-chosen, so escaped. */
function message(to: string, subject: string, paragraphs: string[], link: { url: string; label: string }, after: string): MailMessage {
  const text = `${paragraphs.join('\n\n')}\n\n${link.label}:\n${link.url}\n\n${after}\n`;
  const html = `<!doctype html><html><body>${paragraphs.map((p) => `<p>${esc(p)}</p>`).join('')}<p><a href="${esc(link.url)}">${esc(
    link.label,
  )}</a></p><p>${esc(link.url)}</p><p>${esc(after)}</p></body></html>`;
  return { to, subject, text, html, link: link.url };
}

export function verificationMail(to: { email: string; name: string }, url: string): MailMessage {
  return message(
    to.email,
    'Verify your email for Userz',
    [`Hello ${to.name},`, 'Confirm this address to finish signing up to the Userz console. The link works for 24 hours.'],
    { url, label: 'Verify my email' },
    'If you did not sign up, ignore this message.',
  );
}

export function resetMail(to: { email: string; name: string }, url: string): MailMessage {
  return message(
    to.email,
    'Reset your Userz password',
    [
      `Hello ${to.name},`,
      'Someone asked to reset the password of your Userz console account. The link works for one hour; signing in elsewhere ends when you set a new password.',
    ],
    { url, label: 'Choose a new password' },
    'If it was not you, ignore this message: your password stays as it is.',
  );
}

export function inviteMail(to: string, invite: { orgName: string; role: string; invitedBy: string }, url: string): MailMessage {
  return message(
    to,
    `You are invited to ${invite.orgName} on Userz`,
    [
      `${invite.invitedBy} invited you to join ${invite.orgName} on the Userz console as ${invite.role}.`,
      'The link works once, for 7 days. Sign up or sign in with this address to accept.',
    ],
    { url, label: 'Accept the invite' },
    'If you do not know this org, ignore this message.',
  );
}

/**
 * The reporter hears back (issue 18) when the reporter left an email: the draft for their
 * report was merged or closed. Names the report by id only: no report text, no repository
 * content, no link.
 */
export function reviewOutcomeMail(to: string, reportId: string, outcome: 'merged' | 'closed'): MailMessage {
  const subject = outcome === 'merged' ? `Your report ${reportId}: the fix was merged` : `Your report ${reportId}: the proposed fix was closed`;
  const paragraphs = [
    outcome === 'merged'
      ? `The fix proposed for your report ${reportId} was merged. Thank you for reporting it.`
      : `The fix proposed for your report ${reportId} was closed without being merged. A maintainer may follow up another way.`,
    'You get this message because you left this address with your report.',
  ];
  const text = `${paragraphs.join('\n\n')}\n`;
  const html = `<!doctype html><html><body>${paragraphs.map((p) => `<p>${esc(p)}</p>`).join('')}</body></html>`;
  return { to, subject, text, html, link: '' };
}
