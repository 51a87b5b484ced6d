/**
 * GitLab webhooks carry the shared secret itself in `X-Gitlab-Token`. It is compared in
 * constant time over SHA-256 digests, so neither content nor length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UserzError } from '../../errors.js';
import { runIdFromBranch } from '../branch.js';

export type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Throws `bad_signature` (401) unless `X-Gitlab-Token` equals the secret. */
export function verifyGitLabWebhook(input: { headers: HeaderBag; secret: string }): void {
  if (!input.secret) throw new UserzError('webhook_secret_missing', 'No GitLab webhook secret is configured');
  const given = header(input.headers, 'x-gitlab-token');
  const ok = given !== undefined && timingSafeEqual(digest(given), digest(input.secret));
  if (!ok) throw new UserzError('bad_signature', 'GitLab webhook token does not match');
}

/** The id the replay guard keys on: `Idempotency-Key` (same across GitLab's retries), else the event UUID. */
export function deliveryIdOf(headers: HeaderBag): string | null {
  return header(headers, 'idempotency-key') || header(headers, 'x-gitlab-event-uuid') || null;
}

export type MergeRequestOutcome = 'merged' | 'closed' | 'reopened';

export interface MergeRequestEventResult {
  runId: string;
  outcome: MergeRequestOutcome;
  number: number;
  url: string;
}

const OUTCOMES: Record<string, MergeRequestOutcome> = { merge: 'merged', close: 'closed', reopen: 'reopened' };

/**
 * A merge request event about one of our MRs, else null. The source branch must live in the
 * target project: a fork's `userz/<run-id>` branch says nothing about our run.
 */
export function parseMergeRequestEvent(payload: unknown): MergeRequestEventResult | null {
  if (payload === null || typeof payload !== 'object') return null;
  const event = payload as Record<string, unknown>;
  const attrs = event.object_attributes as Record<string, unknown> | undefined;
  if (event.object_kind !== 'merge_request' || !attrs || typeof attrs !== 'object') return null;
  const runId = runIdFromBranch(attrs.source_branch);
  const outcome = typeof attrs.action === 'string' ? OUTCOMES[attrs.action] : undefined;
  if (!runId || !outcome) return null;
  if (typeof attrs.source_project_id !== 'number' || attrs.source_project_id !== attrs.target_project_id) return null;
  if (typeof attrs.iid !== 'number' || typeof attrs.url !== 'string') return null;
  return { runId, outcome, number: attrs.iid, url: attrs.url };
}
