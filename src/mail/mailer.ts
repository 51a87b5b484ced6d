import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { randomBase62 } from '../store/index.js';

/** One message: plain text, its HTML twin (every interpolated value escaped), and the link it carries. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The one action link in the message (verify, reset, invite). */
  link: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  /** smtp:// or smtps:// with credentials; unset: the outbox directory. */
  smtpUrl?: string;
  from: string;
  /** `<dataDir>/outbox`: where messages go without SMTP. */
  outboxDir: string;
  log: Logger;
}

/**
 * Email out. With USERZ_SMTP_URL, over SMTP (nodemailer), and the link never reaches the
 * log (it signs someone in). Without it (the embedded default, one person on their own
 * machine), each message is written to the outbox as an .eml file and its link is logged,
 * so a new user can verify their address with nothing else set up.
 */
export function createMailer(opts: MailerOptions): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
      async send(m) {
        await transport.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text, html: m.html });
        opts.log.info({ subject: m.subject }, 'Mail sent over SMTP');
      },
      close: () => transport.close(),
    };
  }
  const render = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(m) {
      const info = await render.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text, html: m.html });
      mkdirSync(opts.outboxDir, { recursive: true, mode: 0o700 });
      const file = join(opts.outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBase62(6)}.eml`);
      writeFileSync(file, info.message as Buffer, { mode: 0o600 });
      opts.log.info({ subject: m.subject, file, link: m.link }, 'Mail written to the outbox (no USERZ_SMTP_URL); open the link to continue');
    },
    close: () => render.close(),
  };
}
