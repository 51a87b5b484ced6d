export { createConsoleAuth, type ConsoleAuthService } from './console-auth.js';
export { registerAuthPages } from './pages.js';
export { registerMembersPages } from './members-pages.js';
