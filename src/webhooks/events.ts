import { enqueueWebhookDeliveries, listWebhookSubscriptions, newId, reportIdsOfBatch, type Queryable, type Run, type RunState } from '../store/index.js';

/** The events an endpoint can subscribe to (docs/webhooks.md lists each payload). */
export const WEBHOOK_EVENT_TYPES = ['report.received', 'report.needs_review', 'run.pr_opened', 'run.pr_failed', 'run.errored', 'pr.merged'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * An event's facts: ids, states, reasons and links only. Never report text, reporter
 * details or secrets: the receiver fetches what it needs with its own API key.
 */
export type WebhookEventData = Record<string, string | number | boolean | null>;

export interface WebhookEvent {
  orgId: string;
  type: WebhookEventType;
  data: WebhookEventData;
}

/** Retries run for 24 hours; the attempt count is not what ends a delivery (deliver.ts). */
const MAX_ATTEMPTS = 1_000;

/**
 * Queues each event for every endpoint of its org subscribed to its type, in the caller's
 * transaction (the one that stores the event's cause): an event goes out exactly when what
 * it reports is committed. An indexed read of the orgs' subscriptions first (0.2 ms on
 * PGlite), then one insert for the events someone listens to: queueing 50 events that
 * nobody subscribes to in one statement cost 1.5 ms per transaction on PGlite.
 */
export async function emitWebhookEvents(tx: Queryable, events: readonly WebhookEvent[], now: Date = new Date()): Promise<void> {
  if (events.length === 0) return;
  const subscribed = new Set(
    (
      await listWebhookSubscriptions(
        tx,
        events.map((e) => e.orgId),
      )
    ).map((s) => `${s.orgId}\n${s.type}`),
  );
  const wanted = events.filter((e) => subscribed.has(`${e.orgId}\n${e.type}`));
  if (wanted.length === 0) return;
  const created = Math.floor(now.getTime() / 1000);
  await enqueueWebhookDeliveries(
    tx,
    wanted.map((e) => {
      const id = newId('evt');
      return { orgId: e.orgId, eventId: id, type: e.type, created, body: JSON.stringify({ id, type: e.type, created, data: e.data }) };
    }),
    MAX_ATTEMPTS,
  );
}

const RUN_EVENTS: Partial<Record<RunState, WebhookEventType>> = { pr_opened: 'run.pr_opened', pr_failed: 'run.pr_failed', errored: 'run.errored' };

/**
 * The events of a run entering `to` (pipeline/runs.ts calls it in the transition's
 * transaction): `report.needs_review` for each report of a held run, `run.<state>` for a
 * draft opened or refused and an errored run; nothing for the other states.
 */
export async function emitRunStateEvents(
  tx: Queryable,
  run: Pick<Run, 'id' | 'orgId' | 'appId' | 'batchId' | 'prUrl' | 'prNumber'>,
  to: RunState,
  reason: string | null,
): Promise<void> {
  if (to === 'needs_review') {
    const reportIds = await reportIdsOfBatch(tx, run.batchId);
    await emitWebhookEvents(
      tx,
      reportIds.map((reportId) => ({ orgId: run.orgId, type: 'report.needs_review', data: { reportId, runId: run.id, appId: run.appId, reason } })),
    );
    return;
  }
  const type = RUN_EVENTS[to];
  if (!type) return;
  const data: WebhookEventData = { runId: run.id, appId: run.appId, batchId: run.batchId, state: to, reason };
  if (to === 'pr_opened') Object.assign(data, { prUrl: run.prUrl, prNumber: run.prNumber });
  await emitWebhookEvents(tx, [{ orgId: run.orgId, type, data }]);
}
