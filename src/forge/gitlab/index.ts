export { createGitLabForge, type GitLabForgeDeps } from './forge.js';
export { verifyGitLabProject } from './connect.js';
export { verifyGitLabWebhook, deliveryIdOf, parseMergeRequestEvent } from './webhooks.js';
export { checkGitLabPayload, gitLabProjectIdOf } from './webhook-payloads.js';
export { normalizeGitLabBaseUrl } from './client.js';
