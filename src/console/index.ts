export { createConsoleAuth, registerAuthPages, registerMembersPages, type ConsoleAuthService } from './auth/index.js';
export { registerConsolePages } from './report-pages.js';
export { registerAdminPages } from './pages/admin.js';
