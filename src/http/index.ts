export { Router, type RouteHandler } from './router.js';
export { sendError, sendJson } from './errors.js';
export { readBody, parseJson, requireContentType } from './body.js';
