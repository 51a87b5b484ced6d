import { UserzError } from '../errors.js';

/**
 * Who is asking, for one org. The `/api/v1` routes build one from an `sk_` key, the
 * console from a signed-in user's membership; every read and write of tenant data takes
 * one, so both doors share one authorization.
 *
 * An `sk_` key carries scopes (`read` ⊂ `write` ⊂ `admin`); a member carries a role
 * (`member`, `admin`, `owner`). Both reduce to the same set of permissions below.
 */
export type Scope = 'read' | 'write' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

export type Role = 'member' | 'admin' | 'owner';
export const ROLES: readonly Role[] = ['member', 'admin', 'owner'];

/**
 * What a principal may do:
 * - `read`: every GET of the org's data;
 * - `decide`: approve or reject held reports, set retention on a report or run;
 * - `edit`: create and edit Apps and repositories;
 * - `admin`: keys, model settings, caps, webhooks, members, settings;
 * - `erase`: deletion on request (issue 15) and org-wide destructive acts.
 */
export type Permission = 'read' | 'decide' | 'edit' | 'admin' | 'erase';

const SCOPE_PERMISSIONS: Record<Scope, readonly Permission[]> = {
  read: ['read'],
  write: ['read', 'decide', 'edit'],
  admin: ['read', 'decide', 'edit', 'admin', 'erase'],
};

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  member: ['read', 'decide'],
  admin: ['read', 'decide', 'edit', 'admin'],
  owner: ['read', 'decide', 'edit', 'admin', 'erase'],
};

export interface Principal {
  orgId: string;
  /** For the audit log: `api_key:<id>` or `user:<id>`. */
  actor: string;
  permissions: ReadonlySet<Permission>;
  /** Set for `sk_` keys: what it was issued with (a key never mints more than it has). */
  scopes?: readonly Scope[];
  /** Set for signed-in members. */
  role?: Role;
}

export function keyPrincipal(key: { id: string; orgId: string; scopes: readonly Scope[] }): Principal {
  return { orgId: key.orgId, actor: `api_key:${key.id}`, scopes: key.scopes, permissions: new Set(key.scopes.flatMap((s) => SCOPE_PERMISSIONS[s])) };
}

export function memberPrincipal(member: { userId: string; orgId: string; role: Role }): Principal {
  return { orgId: member.orgId, actor: `user:${member.userId}`, role: member.role, permissions: new Set(ROLE_PERMISSIONS[member.role]) };
}

export function can(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has(permission);
}

/** The scope an `sk_` key would need for a permission, named in the 403. */
const NEEDED_SCOPE: Record<Permission, Scope> = { read: 'read', decide: 'write', edit: 'write', admin: 'admin', erase: 'admin' };

/** Throws 403 `insufficient_scope` naming the missing scope (keys) or the permission (members). */
export function requirePermission(principal: Principal, permission: Permission): void {
  if (can(principal, permission)) return;
  const what = principal.scopes ? `the \`${NEEDED_SCOPE[permission]}\` scope` : `a role that can ${permission} (yours is ${principal.role ?? 'none'})`;
  throw new UserzError('insufficient_scope', `This needs ${what}`);
}

/** A key may be given only scopes its creator holds. */
export function mayGrant(principal: Principal, scopes: readonly Scope[]): boolean {
  return scopes.every((s) => SCOPE_PERMISSIONS[s].every((p) => principal.permissions.has(p)));
}
