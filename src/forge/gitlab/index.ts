export { createGitLabForge, type GitLabForgeDeps } from './forge.js';
export { verifyGitLabProject, DEVELOPER_ACCESS, type GitLabProjectLink } from './connect.js';
export {
  verifyGitLabWebhook,
  deliveryIdOf,
  parseMergeRequestEvent,
  type HeaderBag,
  type MergeRequestEventResult,
  type MergeRequestOutcome,
} from './webhooks.js';
export { checkGitLabPayload, gitLabProjectIdOf, type GitLabPayloadCheck } from './webhook-payloads.js';
export { createGitLabApi, GITLAB_COM, normalizeGitLabBaseUrl, type GitLabApi } from './client.js';
