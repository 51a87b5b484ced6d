import { isIP } from 'node:net';
import { UserzError } from '../errors.js';
import type { Vault } from '../security/index.js';
import { requirePermission, type Principal } from '../tenant/index.js';
import {
  findWebhookEndpoint,
  insertWebhookEndpoint,
  listWebhookAttempts,
  listWebhookEndpointRows,
  markWebhookEndpointDeleted,
  newId,
  recordAudit,
  type Db,
  type Page,
  type PageRequest,
  type WebhookAttemptRow,
  type WebhookEndpointRow,
} from '../store/index.js';
import { hostOf, isLocalName, isLoopbackAddress, isPublicAddress } from './address.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './events.js';
import { newEndpointSecret } from './sign.js';

/** What the API and the console settings page show of an endpoint (never its secret). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: string;
}

/** One attempt in an endpoint's delivery log. */
export interface WebhookDelivery {
  id: string;
  deliveryId: string;
  eventId: string;
  event: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  delivered: boolean;
  /** No further attempt follows (delivered, or given up after 24 h). */
  final: boolean;
  createdAt: string;
}

export interface WebhookEndpointDeps {
  db: Db;
  vault: Vault;
  /** Tests only: accept `http://127.0.0.1…` receivers. */
  allowLoopbackHttp?: boolean;
}

/** Endpoints per org: every event fans out to each, so the number is bounded. */
export const MAX_ENDPOINTS_PER_ORG = 20;
const MAX_URL_LENGTH = 2048;

const view = (e: WebhookEndpointRow): WebhookEndpoint => ({
  id: e.id,
  url: e.url,
  events: e.events.filter((t): t is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(t)),
  createdAt: e.createdAt.toISOString(),
});

const deliveryView = (a: WebhookAttemptRow): WebhookDelivery => ({
  id: String(a.id),
  deliveryId: a.deliveryId,
  eventId: a.eventId,
  event: a.eventType,
  attempt: a.attempt,
  statusCode: a.statusCode,
  error: a.error,
  delivered: a.delivered,
  final: a.final,
  createdAt: a.createdAt.toISOString(),
});

const refused = (why: string) => new UserzError('webhook_url_refused', `The endpoint URL is refused: ${why}`);

/**
 * An endpoint URL as stored: https, no credentials in it, a host that is not a private or
 * loopback address or a local name. (Names are resolved and checked again at every
 * delivery: what a name points to can change after it is registered.)
 */
export function checkEndpointUrl(raw: string, opts: { allowLoopbackHttp?: boolean } = {}): string {
  if (raw.length > MAX_URL_LENGTH) throw refused(`longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused('not a URL');
  }
  const host = hostOf(url);
  // Tests' loopback receivers: plain http, whose every address must then be loopback (deliver.ts checks).
  const plainHttp = opts.allowLoopbackHttp === true && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !plainHttp) throw refused('it must be https');
  if (url.username || url.password) throw refused('it must not carry a user name or password');
  if (isIP(host) && !isPublicAddress(host) && !(plainHttp && isLoopbackAddress(host))) throw refused('it names a private, loopback or link-local address');
  if (isLocalName(host)) throw refused('it names a local host');
  url.hash = '';
  return url.toString();
}

/** Registers an endpoint; the secret is in the answer once and only sealed in the vault after. Needs `admin`. */
export async function createWebhookEndpoint(
  deps: WebhookEndpointDeps,
  principal: Principal,
  input: { url: string; events: readonly WebhookEventType[] },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  requirePermission(principal, 'admin');
  const url = checkEndpointUrl(input.url, deps);
  const events = [...new Set(input.events)];
  if (events.length === 0) throw new UserzError('invalid_payload', 'events must name at least one event');
  const existing = await listWebhookEndpointRows(deps.db, principal.orgId, { limit: MAX_ENDPOINTS_PER_ORG });
  if (existing.items.length >= MAX_ENDPOINTS_PER_ORG) throw new UserzError('invalid_payload', `An org has at most ${MAX_ENDPOINTS_PER_ORG} webhook endpoints`);
  const secret = newEndpointSecret();
  const row = await deps.db.transaction(async (tx) => {
    const secretId = await deps.vault.storeSecret(principal.orgId, 'webhook_signing_secret', secret, tx);
    const inserted = await insertWebhookEndpoint(tx, { id: newId('whe'), orgId: principal.orgId, url, events, secretId, createdBy: principal.actor });
    await recordAudit(tx, { actor: principal.actor, action: 'webhook_endpoint.create', orgId: principal.orgId, subject: inserted.id, data: { events } });
    return inserted;
  });
  return { endpoint: view(row), secret };
}

/** The org's endpoints, newest first. Needs `read`. */
export async function listWebhookEndpoints(deps: Pick<WebhookEndpointDeps, 'db'>, principal: Principal, page: PageRequest): Promise<Page<WebhookEndpoint>> {
  requirePermission(principal, 'read');
  const rows = await listWebhookEndpointRows(deps.db, principal.orgId, page);
  return { items: rows.items.map(view), nextCursor: rows.nextCursor };
}

/** One endpoint of the principal's org; 404 `webhook_endpoint_not_found` otherwise. Needs `read`. */
export async function getWebhookEndpoint(deps: Pick<WebhookEndpointDeps, 'db'>, principal: Principal, id: string): Promise<WebhookEndpoint> {
  requirePermission(principal, 'read');
  return view(await endpointOf(deps.db, principal, id));
}

/** Deletes an endpoint: its pending deliveries end without another attempt. Needs `admin`. */
export async function deleteWebhookEndpoint(deps: Pick<WebhookEndpointDeps, 'db'>, principal: Principal, id: string): Promise<void> {
  requirePermission(principal, 'admin');
  await deps.db.transaction(async (tx) => {
    if (!(await markWebhookEndpointDeleted(tx, principal.orgId, id))) throw notFound();
    await recordAudit(tx, { actor: principal.actor, action: 'webhook_endpoint.delete', orgId: principal.orgId, subject: id });
  });
}

/** An endpoint's delivery log, newest attempt first. Needs `read`. */
export async function listDeliveries(
  deps: Pick<WebhookEndpointDeps, 'db'>,
  principal: Principal,
  endpointId: string,
  page: PageRequest,
): Promise<Page<WebhookDelivery>> {
  requirePermission(principal, 'read');
  await endpointOf(deps.db, principal, endpointId);
  const rows = await listWebhookAttempts(deps.db, principal.orgId, endpointId, page);
  return { items: rows.items.map(deliveryView), nextCursor: rows.nextCursor };
}

async function endpointOf(db: Db, principal: Principal, id: string): Promise<WebhookEndpointRow> {
  const row = await findWebhookEndpoint(db, principal.orgId, id);
  if (!row) throw notFound();
  return row;
}

const notFound = () => new UserzError('webhook_endpoint_not_found', 'No such webhook endpoint');
