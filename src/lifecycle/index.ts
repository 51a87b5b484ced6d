export { expireBlobs, runLifecycleJob } from './expire.js';
export { registerRetentionRoutes } from './retention-api.js';
export { LIFECYCLE_OPS } from './ops.js';
