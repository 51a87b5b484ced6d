export type { ConsoleAuth, ConsoleSession } from './context.js';
export { createConsoleAuth, registerAuthPages, registerMembersPages, type ConsoleAuthService } from './auth/index.js';
