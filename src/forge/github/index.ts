export { createGitHubForge } from './forge.js';
export { parsePullRequestEvent } from './events.js';
export { parseGitHubFollowUpEvent, type GitHubFollowUpEvent } from './followup-events.js';
