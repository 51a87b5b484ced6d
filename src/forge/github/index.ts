export { createGitHubForge } from './forge.js';
export { parsePullRequestEvent } from './events.js';
