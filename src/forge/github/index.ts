export { createGitHubForge, type GitHubForgeDeps } from './forge.js';
export { mintRepoToken, revokeRepoToken, RUN_PERMISSIONS, type MintRepoTokenInput, type RepoToken } from './token.js';
export { signAppJwt } from './app-jwt.js';
export { parsePullRequestEvent, type PullOutcome, type PullRequestEventResult } from './events.js';
export { GitHubHttp, GITHUB_API } from './http.js';
