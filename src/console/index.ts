export { createConsoleAuth, registerAuthPages, registerMembersPages, type ConsoleAuthService } from './auth/index.js';
export { registerAdminPages } from './pages/admin.js';
export { registerConsolePages } from './report-pages.js';
