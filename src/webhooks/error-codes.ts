/**
 * The error codes webhooks/ raises (an org's outgoing webhook endpoints and deliveries): a closed set.
 * The HTTP answer for each code is chosen in src/http/status.ts, nowhere else.
 */
export const WEBHOOKS_ERROR_CODES = ['webhook_endpoint_not_found', 'webhook_url_refused'] as const;
export type WebhooksErrorCode = (typeof WEBHOOKS_ERROR_CODES)[number];
