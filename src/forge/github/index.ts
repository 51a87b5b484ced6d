export { createGitHubForge } from './forge.js';
export { parsePullRequestEvent } from './events.js';
export { parseGitHubFollowUpEvent } from './followup-events.js';
