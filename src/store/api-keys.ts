import type { Queryable } from './db/interface.js';

/**
 * Customer API key rows. Only the public prefix, the salt and the slow hash of the secret
 * are stored; hashing and the constant-time compare stay in security/api-keys.ts.
 */
export interface ApiKeyRecord {
  id: string;
  orgId: string;
  salt: Buffer;
  hash: Buffer;
  revoked: boolean;
}

export async function insertApiKey(
  db: Queryable,
  key: { id: string; orgId: string; prefix: string; salt: Buffer; hash: Buffer; label: string | null },
): Promise<void> {
  await db.query('INSERT INTO api_keys (id, org_id, prefix, salt, hash, label) VALUES ($1, $2, $3, $4, $5, $6)', [
    key.id,
    key.orgId,
    key.prefix,
    key.salt,
    key.hash,
    key.label,
  ]);
}

/** The key behind a prefix (UNIQUE, so one row), revoked or not. */
export async function getApiKeyByPrefix(db: Queryable, prefix: string): Promise<ApiKeyRecord | null> {
  const [row] = await db.query<{ id: string; org_id: string; salt: Buffer; hash: Buffer; revoked_at: Date | null }>(
    'SELECT id, org_id, salt, hash, revoked_at FROM api_keys WHERE prefix = $1',
    [prefix],
  );
  return row ? { id: row.id, orgId: row.org_id, salt: Buffer.from(row.salt), hash: Buffer.from(row.hash), revoked: row.revoked_at !== null } : null;
}

/** Marks the org's key revoked; false when it does not exist, belongs to another org or is already revoked. */
export async function markApiKeyRevoked(db: Queryable, orgId: string, keyId: string): Promise<boolean> {
  const rows = await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL RETURNING id', [keyId, orgId]);
  return rows.length > 0;
}
