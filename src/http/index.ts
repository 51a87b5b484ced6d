export { Router } from './router.js';
export { toStorableText } from './storable-text.js';
export { bearerToken, clientIp } from './request.js';
export { sendError, sendJson } from './errors.js';
export { readBody, parseJson, requireContentType } from './body.js';
export { registerHealthRoutes, type ReadinessCheck } from './health.js';
export { registerAdminRoutes } from './admin.js';
export { startHttpServer, type RequestRecord, type RunningServer } from './server.js';
export { DEFAULT_SHED, type ShedOptions } from './shed.js';
