import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { linkIn } from './console-session.js';

/**
 * A real SMTP server in-process on loopback (the `smtp-server` package), for the console's
 * mail: sign-up verification, reset and invites go through nodemailer to it, and a test
 * reads the link from the message it received.
 */
export interface Smtp {
  url: string;
  messages: string[];
  /** The link of a message to `to` containing `kind`, waiting for it to arrive. */
  link(to: string, kind: string): Promise<string>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<Smtp> {
  const messages: string[] = [];
  const arrived = new EventEmitter();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).toString('utf8'));
        arrived.emit('mail');
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const find = (to: string, kind: string) =>
    messages
      .filter((m) => new RegExp(`^To: .*${to.replace(/[.+]/g, '\\$&')}`, 'mi').test(m))
      .map((m) => linkIn(m, kind))
      .filter((l): l is string => !!l)
      .at(-1);
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    link: (to, kind) =>
      new Promise((resolve, reject) => {
        // Bounds a hang only (a mail that never comes); the mail itself is awaited by event.
        const timer = setTimeout(() => {
          arrived.off('mail', check);
          reject(new Error(`no ${kind} mail to ${to}; got ${messages.length} messages`));
        }, 30_000);
        const check = () => {
          const l = find(to, kind);
          if (!l) return false;
          clearTimeout(timer);
          arrived.off('mail', check);
          resolve(l);
          return true;
        };
        if (!check()) arrived.on('mail', check);
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
