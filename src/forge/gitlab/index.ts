export { createGitLabForge, type GitLabForgeDeps } from './forge.js';
export { verifyGitLabWebhook, deliveryIdOf, parseMergeRequestEvent } from './webhooks.js';
export { checkGitLabPayload, gitLabProjectIdOf } from './webhook-payloads.js';
export { addGitLabProject, GITLAB_OPS } from './ops.js';
export { registerGitLabApiRoutes } from './api.js';
export { parseGitLabFollowUpNote } from './followup-events.js';
