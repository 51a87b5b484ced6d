import { z } from 'zod';
import { pageOf, pageQuery, type ApiRoutes } from '../api/index.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  type WebhookEndpointDeps,
} from './endpoints.js';
import { WEBHOOK_EVENT_TYPES } from './events.js';

const EventType = z.enum(WEBHOOK_EVENT_TYPES);

const CreateWebhookEndpointBody = z
  .object({
    url: z.string().min(1).max(2048).describe('https:// URL of your receiver; private, loopback and link-local addresses are refused'),
    events: z.array(EventType).min(1).max(WEBHOOK_EVENT_TYPES.length).describe('The event types to send to it'),
  })
  .strict();

const WebhookEndpointView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(EventType),
  createdAt: z.iso.datetime(),
});

const WebhookDeliveryView = z.object({
  id: z.string().describe('This attempt'),
  deliveryId: z.string().describe('Userz-Delivery-Id: the same on every attempt of one event to this endpoint'),
  eventId: z.string(),
  event: z.string().describe("The event's type"),
  attempt: z.number().int(),
  statusCode: z.number().int().nullable().describe("The receiver's HTTP status; null when no answer came"),
  error: z.string().nullable(),
  delivered: z.boolean(),
  final: z.boolean().describe('No further attempt follows (delivered, or given up 24 h after the event)'),
  createdAt: z.iso.datetime(),
});

const ERRORS = ['webhook_endpoint_not_found'] as const;

/**
 * Outgoing webhook endpoints, with an `sk_` key of the org (writes need `admin`, reads
 * `read`); docs/webhooks.md describes the events and how a receiver verifies them.
 */
export function registerWebhookRoutes(api: ApiRoutes, deps: WebhookEndpointDeps): void {
  api
    .add({
      method: 'POST',
      path: '/api/v1/webhook-endpoints',
      operationId: 'createWebhookEndpoint',
      tag: 'Webhooks',
      summary: 'Register an endpoint; its signing secret is in this answer only',
      permission: 'admin',
      body: { schema: CreateWebhookEndpointBody, limit: 16 * 1024 },
      responses: {
        201: WebhookEndpointView.extend({ secret: z.string().describe('whsec_…: signs every delivery (Userz-Signature). Shown once, never again') }),
      },
      errors: ['webhook_url_refused'],
    })
    .handle(async ({ principal, body }) => {
      const { endpoint, secret } = await createWebhookEndpoint(deps, principal, body);
      return { status: 201, body: { ...endpoint, secret }, headers: { 'cache-control': 'no-store' } };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/webhook-endpoints',
      operationId: 'listWebhookEndpoints',
      tag: 'Webhooks',
      summary: "The org's endpoints, newest first",
      permission: 'read',
      query: z.object(pageQuery),
      responses: { 200: pageOf(WebhookEndpointView) },
    })
    .handle(async ({ principal, query }) => ({ status: 200, body: await listWebhookEndpoints(deps, principal, query) }));

  api
    .add({
      method: 'GET',
      path: '/api/v1/webhook-endpoints/:id',
      operationId: 'getWebhookEndpoint',
      tag: 'Webhooks',
      summary: 'One endpoint (never its secret)',
      permission: 'read',
      responses: { 200: WebhookEndpointView },
      errors: ERRORS,
    })
    .handle(async ({ principal, params }) => ({ status: 200, body: await getWebhookEndpoint(deps, principal, params.id!) }));

  api
    .add({
      method: 'DELETE',
      path: '/api/v1/webhook-endpoints/:id',
      operationId: 'deleteWebhookEndpoint',
      tag: 'Webhooks',
      summary: 'Delete an endpoint; deliveries still pending for it stop',
      permission: 'admin',
      responses: { 204: { description: 'Deleted' } },
      errors: ERRORS,
    })
    .handle(async ({ principal, params, res }) => {
      await deleteWebhookEndpoint(deps, principal, params.id!);
      res.writeHead(204).end();
      return { status: 204, sent: true };
    });

  api
    .add({
      method: 'GET',
      path: '/api/v1/webhook-endpoints/:id/deliveries',
      operationId: 'listWebhookDeliveries',
      tag: 'Webhooks',
      summary: "The endpoint's delivery log: one item per attempt, newest first",
      permission: 'read',
      query: z.object(pageQuery),
      responses: { 200: pageOf(WebhookDeliveryView) },
      errors: ERRORS,
    })
    .handle(async ({ principal, params, query }) => ({ status: 200, body: await listDeliveries(deps, principal, params.id!, query) }));
}
