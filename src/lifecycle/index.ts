export { expireBlobs, runLifecycleJob, EXPIRY_BATCH, EXPIRY_INTERVAL_MS, type ExpiryPass, type LifecycleDeps } from './expire.js';
export { registerRetentionRoutes, type RetentionRouteDeps } from './retention-api.js';
export { eraseSubject, previewErasure, type ErasureResult } from './erase.js';
export { exportOrg, type ExportResult } from './export.js';
export { LIFECYCLE_OPS } from './ops.js';
