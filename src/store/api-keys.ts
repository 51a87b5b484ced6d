import type { Scope } from '../tenant/index.js';
import type { Queryable } from './db/interface.js';
import { toPage, type Page, type PageRequest } from './keyset.js';
import { afterCursor, cursorParams } from './list-cursor.js';

/**
 * Customer API key rows. Only the public prefix, the salt and the slow hash of the secret
 * are stored; hashing and the constant-time compare stay in security/api-keys.ts.
 * `scopes` is what the key was issued with (tenant/principal.ts reduces it to permissions).
 */
export interface ApiKeyRecord {
  id: string;
  orgId: string;
  salt: Buffer;
  hash: Buffer;
  revoked: boolean;
  scopes: Scope[];
}

/** What a key list shows: never the salt or the hash. */
export interface ApiKeySummary {
  id: string;
  label: string | null;
  /** The public part of the key (`sk_<prefix>_…`), so a person can tell keys apart. */
  prefix: string;
  scopes: Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

type SummaryRow = {
  id: string;
  label: string | null;
  prefix: string;
  scopes: Scope[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

const SUMMARY_COLUMNS = 'id, label, prefix, scopes, created_at, last_used_at, revoked_at';

function toSummary(r: SummaryRow): ApiKeySummary {
  return {
    id: r.id,
    label: r.label,
    prefix: r.prefix,
    scopes: [...r.scopes],
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

/** Stores a new key with its scopes (the caller checked the creator may grant them). */
export async function createScopedApiKey(
  db: Queryable,
  key: { id: string; orgId: string; prefix: string; salt: Buffer; hash: Buffer; label: string | null; scopes: readonly Scope[] },
): Promise<ApiKeySummary> {
  const [row] = await db.query<SummaryRow>(
    `INSERT INTO api_keys (id, org_id, prefix, salt, hash, label, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7::text[])
     RETURNING ${SUMMARY_COLUMNS}`,
    [key.id, key.orgId, key.prefix, key.salt, key.hash, key.label, [...new Set(key.scopes)]],
  );
  return toSummary(row!);
}

/** The key behind a prefix (UNIQUE, so one row), revoked or not. */
export async function getApiKeyByPrefix(db: Queryable, prefix: string): Promise<ApiKeyRecord | null> {
  const [row] = await db.query<{ id: string; org_id: string; salt: Buffer; hash: Buffer; revoked_at: Date | null; scopes: Scope[] }>(
    'SELECT id, org_id, salt, hash, revoked_at, scopes FROM api_keys WHERE prefix = $1',
    [prefix],
  );
  return row
    ? { id: row.id, orgId: row.org_id, salt: Buffer.from(row.salt), hash: Buffer.from(row.hash), revoked: row.revoked_at !== null, scopes: [...row.scopes] }
    : null;
}

/** One of the org's keys (revoked ones too), or null. */
export async function getApiKey(db: Queryable, orgId: string, keyId: string): Promise<ApiKeySummary | null> {
  const [row] = await db.query<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM api_keys WHERE id = $1 AND org_id = $2`, [keyId, orgId]);
  return row ? toSummary(row) : null;
}

/** The org's keys, revoked ones included (with revokedAt), newest first. */
export async function listApiKeys(db: Queryable, orgId: string, page: PageRequest): Promise<Page<ApiKeySummary>> {
  const rows = await db.query<SummaryRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM api_keys
      WHERE org_id = $1 AND ${afterCursor('api_keys', 2)}
      ORDER BY created_at DESC, id DESC
      LIMIT $4`,
    [orgId, ...cursorParams(page), page.limit + 1],
  );
  return toPage(rows.map(toSummary), page.limit, (k) => ({ at: k.createdAt, id: k.id }));
}

/** Marks the org's key revoked; false when it does not exist, belongs to another org or is already revoked. */
export async function markApiKeyRevoked(db: Queryable, orgId: string, keyId: string): Promise<boolean> {
  const rows = await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL RETURNING id', [keyId, orgId]);
  return rows.length > 0;
}

/** Records that the key was just used (the key list's "last used"). */
export async function markApiKeyUsed(db: Queryable, keyId: string): Promise<void> {
  await db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [keyId]);
}
