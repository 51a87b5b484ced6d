import { UserzError } from '../errors.js';
import { recordAudit } from './audit.js';
import type { Queryable } from './db/interface.js';
import { newId } from './ids.js';

export interface Org {
  id: string;
  name: string;
  createdAt: Date;
}

/** Inserts an org row; the caller creates its data key in the same transaction. */
export async function insertOrg(tx: Queryable, name: string, actor: string): Promise<Org> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw new UserzError('invalid_org_name', 'Org name must be 1 to 200 characters');
  const id = newId('org');
  const [row] = await tx.query<{ created_at: Date }>('INSERT INTO orgs (id, name) VALUES ($1, $2) RETURNING created_at', [id, trimmed]);
  await recordAudit(tx, { actor, action: 'org.create', orgId: id, subject: id });
  return { id, name: trimmed, createdAt: row!.created_at };
}

export async function listOrgs(db: Queryable): Promise<Org[]> {
  const rows = await db.query<{ id: string; name: string; created_at: Date }>('SELECT id, name, created_at FROM orgs ORDER BY created_at, id');
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
}

/** Resolves `--org` (id or exact name); when omitted and there is exactly one org, that one. */
export async function resolveOrg(db: Queryable, idOrName?: string): Promise<Org> {
  const orgs = await listOrgs(db);
  if (idOrName) {
    const found = orgs.find((o) => o.id === idOrName || o.name === idOrName);
    if (!found) throw new UserzError('org_not_found', `No org with id or name "${idOrName}"`);
    return found;
  }
  if (orgs.length === 1) return orgs[0]!;
  if (orgs.length === 0) throw new UserzError('org_not_found', 'There is no org yet: run `userz init` first');
  throw new UserzError('org_ambiguous', 'There are several orgs: say which with --org');
}
