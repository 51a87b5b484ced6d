import { UserzError } from '../errors.js';
import type { Role } from '../tenant/index.js';
import { recordAudit } from './audit.js';
import type { Db, Queryable } from './db/interface.js';
import { newId } from './ids.js';

/**
 * Org membership (org_members) and invitations (org_invites) of console users, whose
 * accounts live in better-auth's auth_users. Every read and write takes the org id from
 * the caller's principal: an id of another org finds nothing (404) and changes nothing.
 */
export interface Membership {
  orgId: string;
  orgName: string;
  role: Role;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
}

export interface Invite {
  id: string;
  orgId: string;
  orgName: string;
  email: string;
  role: Role;
  expiresAt: Date;
  acceptedAt: Date | null;
  invitedBy: string;
  createdAt: Date;
}

/** The user's orgs, oldest membership first (the default org is the first). */
export async function listMemberships(db: Queryable, userId: string): Promise<Membership[]> {
  const rows = await db.query<{ org_id: string; name: string; role: Role }>(
    `SELECT m.org_id, o.name, m.role FROM org_members m JOIN orgs o ON o.id = m.org_id
      WHERE m.user_id = $1 ORDER BY m.created_at, m.org_id`,
    [userId],
  );
  return rows.map((r) => ({ orgId: r.org_id, orgName: r.name, role: r.role }));
}

export async function listMembers(db: Queryable, orgId: string): Promise<Member[]> {
  const rows = await db.query<{ user_id: string; email: string; name: string; role: Role; created_at: Date }>(
    `SELECT m.user_id, u.email, u.name, m.role, m.created_at FROM org_members m JOIN auth_users u ON u.id = m.user_id
      WHERE m.org_id = $1 ORDER BY m.created_at, m.user_id`,
    [orgId],
  );
  return rows.map((r) => ({ userId: r.user_id, email: r.email, name: r.name, role: r.role, createdAt: r.created_at }));
}

/** Whether any org has any member (the embedded default's first-user rule). */
export async function anyOrgMember(db: Queryable): Promise<boolean> {
  return (await db.query('SELECT 1 FROM org_members LIMIT 1')).length > 0;
}

/** Whether anyone has signed up yet (sign-in sends the very first visitor to sign-up). */
export async function anyAuthUser(db: Queryable): Promise<boolean> {
  return (await db.query('SELECT 1 FROM auth_users LIMIT 1')).length > 0;
}

/** Adds the user to the org; an existing membership keeps its role. Returns whether it was added. */
export async function addMember(tx: Queryable, m: { orgId: string; userId: string; role: Role; actor: string }): Promise<boolean> {
  const added = await tx.query('INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING user_id', [
    m.orgId,
    m.userId,
    m.role,
  ]);
  if (added.length > 0) await recordAudit(tx, { actor: m.actor, action: 'member.add', orgId: m.orgId, subject: `user:${m.userId}`, data: { role: m.role } });
  return added.length > 0;
}

/**
 * Locks the org's membership rows, then finds the target: the check that an org keeps an
 * owner and the change happen under one lock, so two owners demoting each other at once
 * cannot leave none.
 */
async function lockedTarget(tx: Queryable, orgId: string, userId: string): Promise<{ role: Role; owners: number }> {
  const rows = await tx.query<{ user_id: string; role: Role }>('SELECT user_id, role FROM org_members WHERE org_id = $1 ORDER BY user_id FOR UPDATE', [orgId]);
  const target = rows.find((r) => r.user_id === userId);
  if (!target) throw new UserzError('member_not_found', 'No such member in this org');
  return { role: target.role, owners: rows.filter((r) => r.role === 'owner').length };
}

export async function changeMemberRole(db: Db, c: { orgId: string; userId: string; role: Role; actor: string }): Promise<void> {
  await db.transaction(async (tx) => {
    const t = await lockedTarget(tx, c.orgId, c.userId);
    if (t.role === c.role) return;
    if (t.role === 'owner' && t.owners === 1) throw new UserzError('last_owner', 'An org keeps at least one owner: make someone else owner first');
    await tx.query('UPDATE org_members SET role = $3 WHERE org_id = $1 AND user_id = $2', [c.orgId, c.userId, c.role]);
    await recordAudit(tx, { actor: c.actor, action: 'member.role', orgId: c.orgId, subject: `user:${c.userId}`, data: { from: t.role, to: c.role } });
  });
}

export async function removeMember(db: Db, r: { orgId: string; userId: string; actor: string }): Promise<void> {
  await db.transaction(async (tx) => {
    const t = await lockedTarget(tx, r.orgId, r.userId);
    if (t.role === 'owner' && t.owners === 1) throw new UserzError('last_owner', 'An org keeps at least one owner: make someone else owner first');
    await tx.query('DELETE FROM org_members WHERE org_id = $1 AND user_id = $2', [r.orgId, r.userId]);
    await recordAudit(tx, { actor: r.actor, action: 'member.remove', orgId: r.orgId, subject: `user:${r.userId}`, data: { role: t.role } });
  });
}

type InviteRow = {
  id: string;
  org_id: string;
  org_name: string;
  email: string;
  role: Role;
  expires_at: Date;
  accepted_at: Date | null;
  invited_by: string;
  created_at: Date;
};

const INVITE_COLUMNS = `i.id, i.org_id, o.name AS org_name, i.email, i.role, i.expires_at, i.accepted_at, i.invited_by, i.created_at`;

function toInvite(r: InviteRow): Invite {
  return {
    id: r.id,
    orgId: r.org_id,
    orgName: r.org_name,
    email: r.email,
    role: r.role,
    expiresAt: r.expires_at,
    acceptedAt: r.accepted_at,
    invitedBy: r.invited_by,
    createdAt: r.created_at,
  };
}

/** Records an invite; the caller made the token and keeps only its hash here. */
export async function insertInvite(
  tx: Queryable,
  i: { orgId: string; email: string; role: Role; tokenHash: string; expiresAt: Date; invitedBy: string },
): Promise<string> {
  const id = newId('inv');
  await tx.query('INSERT INTO org_invites (id, org_id, email, role, token_hash, expires_at, invited_by) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    id,
    i.orgId,
    i.email,
    i.role,
    i.tokenHash,
    i.expiresAt,
    i.invitedBy,
  ]);
  await recordAudit(tx, { actor: i.invitedBy, action: 'invite.create', orgId: i.orgId, subject: id, data: { role: i.role } });
  return id;
}

/** The org's invites not yet accepted nor expired, newest first. */
export async function listPendingInvites(db: Queryable, orgId: string): Promise<Invite[]> {
  const rows = await db.query<InviteRow>(
    `SELECT ${INVITE_COLUMNS} FROM org_invites i JOIN orgs o ON o.id = i.org_id
      WHERE i.org_id = $1 AND i.accepted_at IS NULL AND i.expires_at > now() ORDER BY i.created_at DESC, i.id DESC`,
    [orgId],
  );
  return rows.map(toInvite);
}

export async function revokeInvite(db: Db, r: { orgId: string; inviteId: string; actor: string }): Promise<void> {
  await db.transaction(async (tx) => {
    const gone = await tx.query('DELETE FROM org_invites WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL RETURNING id', [r.orgId, r.inviteId]);
    if (gone.length === 0) throw new UserzError('invite_not_found', 'No such pending invite in this org');
    await recordAudit(tx, { actor: r.actor, action: 'invite.revoke', orgId: r.orgId, subject: r.inviteId });
  });
}

export async function getInviteByTokenHash(db: Queryable, tokenHash: string): Promise<Invite | null> {
  const [row] = await db.query<InviteRow>(`SELECT ${INVITE_COLUMNS} FROM org_invites i JOIN orgs o ON o.id = i.org_id WHERE i.token_hash = $1`, [tokenHash]);
  return row ? toInvite(row) : null;
}

/**
 * Takes an invite for this user: once (the row is locked and marked), before it expires,
 * and only for the address it was sent to. Returns the org joined.
 */
export async function acceptInvite(db: Db, a: { tokenHash: string; user: { id: string; email: string } }): Promise<Membership> {
  return db.transaction(async (tx) => {
    const [row] = await tx.query<InviteRow>(
      `SELECT ${INVITE_COLUMNS} FROM org_invites i JOIN orgs o ON o.id = i.org_id WHERE i.token_hash = $1 FOR UPDATE OF i`,
      [a.tokenHash],
    );
    if (!row) throw new UserzError('invite_not_found', 'This invite link is not valid');
    if (row.accepted_at) throw new UserzError('invite_used', 'This invite has already been used');
    if (row.expires_at.getTime() <= Date.now()) throw new UserzError('invite_expired', 'This invite has expired: ask for a new one');
    if (row.email.toLowerCase() !== a.user.email.toLowerCase()) {
      throw new UserzError('invite_wrong_email', 'This invite was sent to another address: sign in with that one');
    }
    await markAccepted(tx, row, a.user.id);
    return { orgId: row.org_id, orgName: row.org_name, role: row.role };
  });
}

async function markAccepted(tx: Queryable, row: InviteRow, userId: string): Promise<void> {
  await tx.query('UPDATE org_invites SET accepted_at = now(), accepted_by = $2 WHERE id = $1', [row.id, userId]);
  await addMember(tx, { orgId: row.org_id, userId, role: row.role, actor: `user:${userId}` });
  await recordAudit(tx, { actor: `user:${userId}`, action: 'invite.accept', orgId: row.org_id, subject: row.id, data: { role: row.role } });
}

/** `userz init --owner`: the operator's standing invite, taken by that address's first verification. */
export const OPERATOR_INVITER = 'cli';

/** Accepts every open operator invite for this verified address. Returns the orgs joined. */
export async function acceptOperatorInvites(db: Db, user: { id: string; email: string }): Promise<string[]> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<InviteRow>(
      `SELECT ${INVITE_COLUMNS} FROM org_invites i JOIN orgs o ON o.id = i.org_id
        WHERE lower(i.email) = lower($1) AND i.invited_by = $2 AND i.accepted_at IS NULL AND i.expires_at > now() FOR UPDATE OF i`,
      [user.email, OPERATOR_INVITER],
    );
    for (const row of rows) await markAccepted(tx, row, user.id);
    return rows.map((r) => r.org_id);
  });
}

/** The id of the user with this verified address, if one exists (`userz init --owner` after they signed up). */
export async function findVerifiedUserId(db: Queryable, email: string): Promise<string | undefined> {
  const [row] = await db.query<{ id: string }>('SELECT id FROM auth_users WHERE lower(email) = lower($1) AND email_verified', [email]);
  return row?.id;
}

/** Whether an operator invite is waiting for anyone (then the first-user rule does not apply). */
export async function anyOperatorInvite(db: Queryable): Promise<boolean> {
  return (await db.query('SELECT 1 FROM org_invites WHERE invited_by = $1 AND accepted_at IS NULL LIMIT 1', [OPERATOR_INVITER])).length > 0;
}

export interface UserSession {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  ipAddress: string | null;
  userAgent: string | null;
}

/** The user's live sessions, most recently active first (the account page). */
export async function listUserSessions(db: Queryable, userId: string): Promise<UserSession[]> {
  const rows = await db.query<{ id: string; created_at: Date; updated_at: Date; expires_at: Date; ip_address: string | null; user_agent: string | null }>(
    `SELECT id, created_at, updated_at, expires_at, ip_address, user_agent FROM auth_sessions
      WHERE user_id = $1 AND expires_at > now() ORDER BY updated_at DESC, id`,
    [userId],
  );
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
    ipAddress: r.ip_address,
    userAgent: r.user_agent,
  }));
}

/** Ends one of the user's sessions (by id, never another user's). Returns whether one was ended. */
export async function deleteUserSession(db: Queryable, userId: string, sessionId: string): Promise<boolean> {
  return (await db.query('DELETE FROM auth_sessions WHERE user_id = $1 AND id = $2 RETURNING id', [userId, sessionId])).length > 0;
}
