export { expireBlobs, runLifecycleJob, EXPIRY_BATCH, EXPIRY_INTERVAL_MS, type ExpiryPass, type LifecycleDeps } from './expire.js';
export { registerRetentionRoutes, type RetentionRouteDeps } from './retention-api.js';
