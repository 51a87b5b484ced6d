export { expireBlobs, runLifecycleJob } from './expire.js';
export { registerRetentionRoutes } from './retention-api.js';
export { registerEraseRoute } from './erase-api.js';
export { LIFECYCLE_OPS } from './ops.js';
export { eraseSubject, previewErasure, type ErasureResult } from './erase.js';
export { MAX_RETENTION_DAYS, setAppRetained, setOrgRetention, setReportRetained, setRunRetained } from './retention.js';
