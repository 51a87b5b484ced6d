export { createMailer, type Mailer } from './mailer.js';
export { inviteMail, resetMail, verificationMail } from './messages.js';
