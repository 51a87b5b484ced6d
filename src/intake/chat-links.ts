import { createHash, randomInt } from 'node:crypto';
import { UserzError, isUserzError } from '../errors.js';
import { RateLimiter, type RateLimitCheck, type RateLimitRule } from '../security/index.js';
import type { Db } from '../store/index.js';
import { getApp } from '../store/index.js';
import { consumeChatLinkCode, insertChatLinkCode, linkChatWorkspace, type ChatProvider } from '../store/index.js';
import type { IntakeDeps } from './deps.js';

export type { ChatProvider } from '../store/index.js';

/** A link code lives 15 minutes (issue 11): long enough to switch to the chat app. */
export const LINK_CODE_TTL_SECONDS = 15 * 60;

// RFC 4648 base32: no 0/1/8/9, so codes read aloud or retyped survive O/0 and I/1 mix-ups.
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PREFIX = 'UZL';
const BODY_LENGTH = 20; // 100 bits
const NORMALISED = new RegExp(`^${PREFIX}[${BASE32}]{${BODY_LENGTH}}$`);

/** `UZL-ABCD-EFGH-IJKL-MNOP-QRST`: the prefix tells a link command from a report. */
export function generateLinkCode(): string {
  let body = '';
  for (let i = 0; i < BODY_LENGTH; i++) body += BASE32[randomInt(BASE32.length)];
  return [PREFIX, ...body.match(/.{4}/g)!].join('-');
}

/** Upper-cased without dashes or spaces, or null when it cannot be a code at all. */
function normaliseLinkCode(raw: string): string | null {
  const code = raw.toUpperCase().replace(/[\s-]+/g, '');
  return NORMALISED.test(code) ? code : null;
}

/** Only this hash is stored: a database reader cannot redeem a live code. */
function hashLinkCode(normalised: string): string {
  return createHash('sha256').update(normalised).digest('hex');
}

/** Creates a code for one App of `orgId` and one provider; the code is returned here only. */
export async function createChatLinkCode(
  db: Db,
  input: { orgId: string; appId: string; provider: ChatProvider; actor: string },
): Promise<{ code: string; expiresAt: Date }> {
  const app = await getApp(db, input.appId);
  if (!app || app.orgId !== input.orgId) throw new UserzError('app_not_found', `No App with id ${input.appId}`);
  const code = generateLinkCode();
  const { expiresAt } = await db.transaction((tx) =>
    insertChatLinkCode(
      tx,
      { codeHash: hashLinkCode(normaliseLinkCode(code)!), appId: app.id, orgId: app.orgId, provider: input.provider, ttlSeconds: LINK_CODE_TTL_SECONDS },
      input.actor,
    ),
  );
  return { code, expiresAt };
}

export type LinkOutcome =
  { kind: 'linked'; appId: string } | { kind: 'invalid_code' } | { kind: 'taken' } | { kind: 'rate_limited'; retryAfterSeconds: number };

/**
 * Failed link attempts per workspace or server. A code carries 100 bits, so this does not
 * change the odds of guessing one; it stops a member from turning wrong codes into an
 * unbounded stream of database writes, and makes a guessing run visible in the logs.
 */
export const FAILED_LINK_ATTEMPTS: RateLimitRule = { name: 'chat-link:failed', limit: 10, windowMs: 15 * 60 * 1000 };

/**
 * Redeems a code sent from inside a workspace (the caller has checked who sent it):
 * the code is used and the workspace linked in one transaction, so a refused link
 * (workspace taken) leaves the code unused. A workspace that sent FAILED_LINK_ATTEMPTS
 * wrong codes in the window is refused without a look at the code.
 */
export async function redeemChatLinkCode(
  deps: Pick<IntakeDeps, 'db' | 'cache'>,
  input: { provider: ChatProvider; code: string; workspaceId: string; channelId: string | null; actor: string },
): Promise<LinkOutcome> {
  const limiter = new RateLimiter(deps.cache);
  const failures: RateLimitCheck[] = [{ rule: FAILED_LINK_ATTEMPTS, subject: `${input.provider}:${input.workspaceId}` }];
  try {
    await limiter.refuseIfSpent(failures);
  } catch (e) {
    if (isUserzError(e) && e.code === 'rate_limited') return { kind: 'rate_limited', retryAfterSeconds: Number(e.details?.retryAfterSeconds ?? 60) };
    throw e;
  }
  const outcome = await useChatLinkCode(deps.db, input);
  if (outcome.kind === 'invalid_code') {
    // Counting the failure that spends the budget throws; the attempt after it is the one refused.
    await limiter.hit(failures).catch((e: unknown) => {
      if (!(isUserzError(e) && e.code === 'rate_limited')) throw e;
    });
  }
  return outcome;
}

async function useChatLinkCode(
  db: Db,
  input: { provider: ChatProvider; code: string; workspaceId: string; channelId: string | null; actor: string },
): Promise<LinkOutcome> {
  const normalised = normaliseLinkCode(input.code);
  if (!normalised) return { kind: 'invalid_code' };
  try {
    return await db.transaction(async (tx): Promise<LinkOutcome> => {
      const target = await consumeChatLinkCode(tx, hashLinkCode(normalised), input.provider, input.workspaceId);
      if (!target) return { kind: 'invalid_code' };
      await linkChatWorkspace(tx, { ...target, provider: input.provider, workspaceId: input.workspaceId, channelId: input.channelId }, input.actor);
      return { kind: 'linked', appId: target.appId };
    });
  } catch (e) {
    if (isUserzError(e) && e.code === 'link_taken') return { kind: 'taken' };
    throw e;
  }
}

/** The chat answer to a link attempt: fixed sentences, nothing the sender typed. */
export function linkReply(outcome: LinkOutcome, place: 'Slack workspace' | 'Discord server'): string {
  switch (outcome.kind) {
    case 'linked':
      return `Linked: /userz reports from this ${place} now go to App ${outcome.appId}.`;
    case 'invalid_code':
      return 'That link code is not valid: it is mistyped, already used or expired (codes last 15 minutes). Ask the product’s admin for a new one.';
    case 'taken':
      return `This ${place} is already linked to another App; it has to be unlinked there first.`;
    case 'rate_limited':
      return `Too many wrong link codes from this ${place}; try again in ${outcome.retryAfterSeconds} s with a new code from the product’s admin.`;
  }
}
