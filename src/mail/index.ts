export { createMailer, type Mailer } from './mailer.js';
export { inviteMail, resetMail, reviewOutcomeMail, verificationMail } from './messages.js';
