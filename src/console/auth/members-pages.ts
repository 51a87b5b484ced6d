import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { inviteMail } from '../../mail/index.js';
import {
  acceptInvite,
  changeMemberRole,
  getInviteByTokenHash,
  insertInvite,
  listMembers,
  listPendingInvites,
  removeMember,
  revokeInvite,
  type Db,
} from '../../store/index.js';
import { can, requirePermission, ROLES, type Principal, type Role } from '../../tenant/index.js';
import type { ConsoleSession } from '../context.js';
import { time } from '../format.js';
import { href, html } from '../html.js';
import { layout, redirect, sendPage } from '../layout.js';
import { hashInviteToken, newInviteToken, type ConsoleAuthService } from './console-auth.js';
import { orgCookie } from './pages.js';
import { addPage, field, hidden, notice, readForm } from './serve.js';

/** An invite link works once, for this long. */
export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

export interface MembersPagesDeps {
  db: Db;
  auth: ConsoleAuthService;
  publicUrl: string;
}

const MEMBER_NOTICES: Record<string, string> = {
  invited: 'Invite sent. The link works once, for 7 days.',
  role: 'Role changed.',
  removed: 'Member removed.',
  revoked: 'Invite withdrawn.',
};

/**
 * /members (everyone in the org sees it; owners and admins invite, change roles, remove)
 * and /invites/:token. Every read and write takes the org from the signed-in principal: a
 * member of org B naming org A's user or invite ids gets 404 and nothing changes. Only an
 * owner grants or takes away the owner role, and an org always keeps one owner.
 */
export function registerMembersPages(router: Router, deps: MembersPagesDeps): void {
  const { db, auth } = deps;

  addPage(router, 'GET', '/members', async (req, res, { url }) => {
    const s = await memberSession(req, res, auth, '/members');
    if (!s) return;
    const [members, invites] = await Promise.all([
      listMembers(db, s.principal.orgId),
      can(s.principal, 'admin') ? listPendingInvites(db, s.principal.orgId) : [],
    ]);
    const manage = can(s.principal, 'admin');
    const roleChoices = (current?: Role) =>
      ROLES.filter((r) => r !== 'owner' || s.principal.role === 'owner').map(
        (r) => html`<option value="${r}" ${r === current ? html`selected` : ''}>${r}</option>`,
      );
    sendPage(
      res,
      200,
      layout({
        title: 'Members',
        session: s.session,
        active: '/members',
        body: html`${notice(MEMBER_NOTICES[url.searchParams.get('notice') ?? ''])}
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                ${manage ? html`<th scope="col"><span class="muted">Manage</span></th>` : ''}
              </tr>
            </thead>
            <tbody>
              ${members.map(
                (m) =>
                  html`<tr>
                    <td>${m.name}</td>
                    <td>${m.email}</td>
                    <td>${m.role}</td>
                    <td>${time(m.createdAt)}</td>
                    ${
                      manage
                        ? html`<td>
                            ${
                              m.role !== 'owner' || s.principal.role === 'owner'
                                ? html`<form method="post" action="${`/members/${encodeURIComponent(m.userId)}/role`}" class="inline">
                                      ${hidden('_csrf', s.session.csrfToken)}
                                      <label for="${`role-${m.userId}`}">Role of ${m.email}</label>
                                      <select id="${`role-${m.userId}`}" name="role">
                                        ${roleChoices(m.role)}
                                      </select>
                                      <button type="submit">Change role</button>
                                    </form>
                                    <form method="post" action="${`/members/${encodeURIComponent(m.userId)}/remove`}" class="inline">
                                      ${hidden('_csrf', s.session.csrfToken)}
                                      <button type="submit" class="danger">Remove ${m.email}</button>
                                    </form>`
                                : html`<span class="muted">Only an owner changes an owner</span>`
                            }
                          </td>`
                        : ''
                    }
                  </tr>`,
              )}
            </tbody>
          </table>
          ${
            manage
              ? html`<h2>Invite someone</h2>
                  <form method="post" action="/members/invite">
                    ${hidden('_csrf', s.session.csrfToken)} ${field('Email', 'email', 'email', html`required autocomplete="off"`)}
                    <p>
                      <label for="f-role">Role</label
                      ><select id="f-role" name="role">
                        ${roleChoices('member')}
                      </select>
                    </p>
                    <p><button type="submit" class="primary">Send invite</button></p>
                  </form>
                  <h2>Pending invites</h2>
                  ${
                    invites.length === 0
                      ? html`<p class="muted">No pending invites.</p>`
                      : html`<table>
                          <thead>
                            <tr>
                              <th scope="col">Email</th>
                              <th scope="col">Role</th>
                              <th scope="col">Expires</th>
                              <th scope="col"><span class="muted">Withdraw</span></th>
                            </tr>
                          </thead>
                          <tbody>
                            ${invites.map(
                              (i) =>
                                html`<tr>
                                  <td>${i.email}</td>
                                  <td>${i.role}</td>
                                  <td>${time(i.expiresAt)}</td>
                                  <td>
                                    <form method="post" action="${`/members/invites/${encodeURIComponent(i.id)}/revoke`}" class="inline">
                                      ${hidden('_csrf', s.session.csrfToken)}
                                      <button type="submit" class="danger">Withdraw invite to ${i.email}</button>
                                    </form>
                                  </td>
                                </tr>`,
                            )}
                          </tbody>
                        </table>`
                  }`
              : ''
          }`,
      }),
    );
  });

  addPage(router, 'POST', '/members/invite', async (req, res) => {
    const s = await memberForm(req, res, auth);
    if (!s) return;
    requirePermission(s.principal, 'admin');
    const email = (s.form.get('email') ?? '').trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) throw new UserzError('invalid_payload', 'Give the email address to invite');
    const role = parseRole(s.form.get('role'));
    if (role === 'owner') requireOwner(s.principal);
    const { token, hash } = newInviteToken();
    const orgName = s.session.memberships.find((m) => m.orgId === s.principal.orgId)?.orgName ?? 'your org';
    await db.transaction((tx) =>
      insertInvite(tx, {
        orgId: s.principal.orgId,
        email,
        role,
        tokenHash: hash,
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
        invitedBy: s.principal.actor,
      }),
    );
    await auth.mailer.send(inviteMail(email, { orgName, role, invitedBy: s.session.user.email }, `${deps.publicUrl}/invites/${token}`));
    redirect(res, '/members?notice=invited');
  });

  addPage(router, 'POST', '/members/:userId/role', async (req, res, { params }) => {
    const s = await memberForm(req, res, auth);
    if (!s) return;
    requirePermission(s.principal, 'admin');
    const role = parseRole(s.form.get('role'));
    const target = (await listMembers(db, s.principal.orgId)).find((m) => m.userId === params.userId);
    if (!target) throw new UserzError('member_not_found', 'No such member in this org');
    if (role === 'owner' || target.role === 'owner') requireOwner(s.principal);
    await changeMemberRole(db, { orgId: s.principal.orgId, userId: target.userId, role, actor: s.principal.actor });
    redirect(res, '/members?notice=role');
  });

  addPage(router, 'POST', '/members/:userId/remove', async (req, res, { params }) => {
    const s = await memberForm(req, res, auth);
    if (!s) return;
    requirePermission(s.principal, 'admin');
    const target = (await listMembers(db, s.principal.orgId)).find((m) => m.userId === params.userId);
    if (!target) throw new UserzError('member_not_found', 'No such member in this org');
    if (target.role === 'owner') requireOwner(s.principal);
    await removeMember(db, { orgId: s.principal.orgId, userId: target.userId, actor: s.principal.actor });
    redirect(res, '/members?notice=removed');
  });

  addPage(router, 'POST', '/members/invites/:id/revoke', async (req, res, { params }) => {
    const s = await memberForm(req, res, auth);
    if (!s) return;
    requirePermission(s.principal, 'admin');
    await revokeInvite(db, { orgId: s.principal.orgId, inviteId: params.id!, actor: s.principal.actor });
    redirect(res, '/members?notice=revoked');
  });

  addPage(router, 'GET', '/invites/:token', async (req, res, { params }) => {
    const invite = await getInviteByTokenHash(db, hashInviteToken(params.token!));
    if (!invite) throw new UserzError('invite_not_found', 'This invite link is not valid');
    if (invite.acceptedAt) throw new UserzError('invite_used', 'This invite has already been used');
    if (invite.expiresAt.getTime() <= Date.now()) throw new UserzError('invite_expired', 'This invite has expired: ask for a new one');
    const session = await auth.session(req);
    const here = `/invites/${encodeURIComponent(params.token!)}`;
    sendPage(
      res,
      200,
      layout({
        title: `Join ${invite.orgName}`,
        session,
        body: html`<div class="auth">
          <p>You are invited to <strong>${invite.orgName}</strong> as <strong>${invite.role}</strong>. The invite is for <strong>${invite.email}</strong>.</p>
          ${
            session
              ? session.user.email.toLowerCase() === invite.email.toLowerCase()
                ? html`<form method="post" action="${here}">
                    ${hidden('_csrf', session.csrfToken)}
                    <p><button type="submit" class="primary">Join ${invite.orgName}</button></p>
                  </form>`
                : html`<p class="error" role="alert">You are signed in as ${session.user.email}. Sign out and sign in as ${invite.email} to accept.</p>`
              : html`<p>
                  <a href="${href('/sign-up', { next: here })}">Create an account with ${invite.email}</a> or
                  <a href="${href('/sign-in', { next: here })}">sign in</a> to accept.
                </p>`
          }
        </div>`,
      }),
    );
  });

  addPage(router, 'POST', '/invites/:token', async (req, res, { params }) => {
    const session = await auth.session(req);
    const form = await readForm(req);
    if (!session) return redirect(res, href('/sign-in', { next: `/invites/${params.token}` }));
    auth.checkCsrf(req, session, form.get('_csrf') ?? undefined);
    const joined = await acceptInvite(db, { tokenHash: hashInviteToken(params.token!), user: session.user });
    redirect(res, '/', { 'set-cookie': orgCookie(auth, joined.orgId) });
  });
}

function parseRole(raw: string | null): Role {
  if (raw && (ROLES as readonly string[]).includes(raw)) return raw as Role;
  throw new UserzError('invalid_payload', 'Role must be owner, admin or member');
}

function requireOwner(principal: Principal): void {
  if (principal.role !== 'owner') throw new UserzError('insufficient_scope', 'Only an owner grants or changes the owner role');
}

type SignedIn = { session: ConsoleSession; principal: Principal };

async function memberSession(req: IncomingMessage, res: ServerResponse, auth: ConsoleAuthService, here: string): Promise<SignedIn | null> {
  const session = await auth.session(req);
  if (!session) {
    redirect(res, href('/sign-in', { next: here }));
    return null;
  }
  if (!session.principal) throw new UserzError('not_found', 'You are not a member of any organization yet');
  return { session, principal: session.principal };
}

async function memberForm(req: IncomingMessage, res: ServerResponse, auth: ConsoleAuthService): Promise<(SignedIn & { form: URLSearchParams }) | null> {
  const session = await auth.session(req);
  const form = await readForm(req);
  if (!session) {
    redirect(res, '/sign-in');
    return null;
  }
  auth.checkCsrf(req, session, form.get('_csrf') ?? undefined);
  if (!session.principal) throw new UserzError('not_found', 'You are not a member of any organization yet');
  return { session, principal: session.principal, form };
}
