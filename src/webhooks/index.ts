/** Public face of webhooks/: an org's outgoing endpoints, the events they receive, signed deliveries and their log. */
export { emitRunStateEvents, emitWebhookEvents, WEBHOOK_EVENT_TYPES, type WebhookEvent, type WebhookEventType } from './events.js';
export { deliverWebhookJob, type WebhookDeliveryOptions } from './deliver.js';
export {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  type WebhookDelivery,
  type WebhookEndpoint,
} from './endpoints.js';
export { registerWebhookRoutes } from './api.js';
