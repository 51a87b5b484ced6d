export { createMailer, type Mailer, type MailMessage } from './mailer.js';
export { inviteMail, resetMail, verificationMail } from './messages.js';
