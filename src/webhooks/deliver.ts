import { isIP, type LookupFunction } from 'node:net';
import { Agent } from 'undici';
import type { Logger } from 'pino';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Vault } from '../security/index.js';
import { completeJob, failJob, getWebhookEndpointRow, insertWebhookAttempt, type Db, type Job, type WebhookEndpointRow } from '../store/index.js';
import { hostOf, isLoopbackAddress, isPublicAddress, systemResolver, type Resolver } from './address.js';
import { signatureHeader } from './sign.js';

export interface WebhookDeliveryOptions {
  now?: () => Date;
  /** How a host name becomes addresses (tests give a fixed table; default: the system's). */
  resolve?: Resolver;
  /** Tests only: plain `http:` to a loopback receiver. Production never sets it. */
  allowLoopbackHttp?: boolean;
  /** How long one attempt may take, connect to last response byte. */
  timeoutMs?: number;
}

export interface WebhookDeliveryDeps extends WebhookDeliveryOptions {
  db: Db;
  vault: Vault;
  log: Logger;
}

/** A delivery is retried for this long after its event; the attempt after that is the last. */
export const RETRY_WINDOW_MS = 24 * 3600_000;

/** 30 s, 1 min, 2 min, … capped at 1 h, each drawn from its upper half (jitter): about 30 attempts in 24 h. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(3600_000, 30_000 * 2 ** Math.max(0, attempt - 1));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

const DeliveryPayload = z.object({
  deliveryId: z.string(),
  endpointId: z.string(),
  orgId: z.string(),
  eventId: z.string(),
  type: z.string(),
  created: z.number(),
  body: z.string(),
});
type DeliveryPayload = z.infer<typeof DeliveryPayload>;

interface AttemptResult {
  statusCode: number | null;
  error: string | null;
}

/**
 * One attempt of a `webhook` job: POST the event's stored body, signed, to the endpoint.
 * 2xx is delivered; anything else (status, refusal, timeout) is retried with backoff until
 * 24 h after the event, then given up. Every attempt is a row of the delivery log, written
 * in the transaction that completes or reschedules the job. A deleted endpoint ends its jobs.
 */
export async function deliverWebhookJob(deps: WebhookDeliveryDeps, job: Job): Promise<void> {
  const parsed = DeliveryPayload.safeParse(job.payload);
  if (!parsed.success) {
    await failJob(deps.db, job.id, 'webhook_payload_invalid', { delayMs: 0, final: true });
    return;
  }
  const p = parsed.data;
  const endpoint = await getWebhookEndpointRow(deps.db, p.endpointId);
  if (!endpoint || endpoint.deletedAt || endpoint.orgId !== p.orgId) {
    await completeJob(deps.db, job.id);
    return;
  }
  const now = (deps.now ?? (() => new Date()))();
  const result = await attempt(deps, endpoint, p, now);
  const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  const windowLeft = p.created * 1000 + RETRY_WINDOW_MS - now.getTime();
  const final = delivered || windowLeft <= 0;
  const error = delivered ? null : final ? `${result.error ?? `HTTP ${result.statusCode}`}; gave up 24 h after the event` : result.error;
  const log = deps.log.child({ deliveryId: p.deliveryId, endpointId: p.endpointId, eventType: p.type, attempt: job.attempts });
  await deps.db.transaction(async (tx) => {
    await insertWebhookAttempt(tx, {
      orgId: p.orgId,
      endpointId: p.endpointId,
      deliveryId: p.deliveryId,
      eventId: p.eventId,
      eventType: p.type,
      attempt: job.attempts,
      statusCode: result.statusCode,
      error,
      delivered,
      final,
    });
    if (delivered) await completeJob(tx, job.id);
    else
      await failJob(tx, job.id, result.error ?? `http_${result.statusCode}`, { delayMs: final ? 0 : Math.min(retryDelayMs(job.attempts), windowLeft), final });
  });
  if (delivered) log.info({ statusCode: result.statusCode }, 'Webhook delivered');
  else log[final ? 'warn' : 'info']({ statusCode: result.statusCode, error: result.error, final }, 'Webhook delivery failed');
}

async function attempt(deps: WebhookDeliveryDeps, endpoint: WebhookEndpointRow, p: DeliveryPayload, now: Date): Promise<AttemptResult> {
  let url: URL;
  try {
    url = new URL(endpoint.url);
  } catch {
    return { statusCode: null, error: 'url_invalid' };
  }
  const plainHttp = url.protocol === 'http:' && deps.allowLoopbackHttp === true;
  if (url.protocol !== 'https:' && !plainHttp) return { statusCode: null, error: 'url_not_https' };
  const host = hostOf(url);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await (deps.resolve ?? systemResolver)(host);
  } catch (e) {
    return { statusCode: null, error: `dns_failed: ${errorMessage(e).slice(0, 200)}` };
  }
  if (addresses.length === 0) return { statusCode: null, error: 'dns_failed: no address' };
  // Every address, not just the first: a name with one public and one private address is refused.
  const allowed = (a: string) => (plainHttp ? isLoopbackAddress(a) : isPublicAddress(a));
  if (!addresses.every(allowed)) return { statusCode: null, error: 'address_not_allowed: the host resolves to a private, loopback or link-local address' };
  const secret = await deps.vault.revealSecret(endpoint.secretId, { actor: 'webhooks', purpose: 'sign webhook delivery' });
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Userz-Webhooks/1',
    'userz-signature': signatureHeader(secret, timestamp, p.body),
    'userz-delivery-id': p.deliveryId,
    'userz-event': p.type,
  };
  try {
    const statusCode = await post(url, addresses[0]!, headers, p.body, deps.timeoutMs ?? 10_000);
    return { statusCode, error: statusCode >= 200 && statusCode < 300 ? null : `HTTP ${statusCode}` };
  } catch (e) {
    return { statusCode: null, error: `request_failed: ${errorMessage(e).slice(0, 200)}` };
  }
}

/**
 * POSTs to `url` connecting only to `address` (TLS still checks the URL's host name, as
 * the connection is made for that name); redirects are not followed.
 */
async function post(url: URL, address: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
  const family = isIP(address);
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const dispatcher = new Agent({ connect: { lookup: pinned, timeout: timeoutMs }, pipelining: 0 });
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      // undici's own option (Node's fetch is undici): the connection goes to the checked address.
      ...({ dispatcher } as object),
    });
    // The answer's body means nothing to us.
    await res.body?.cancel();
    return res.status;
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}
