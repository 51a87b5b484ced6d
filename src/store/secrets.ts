import type { Queryable } from './db/interface.js';

/**
 * The vault's rows: org data keys (stored only wrapped by the master key) and sealed
 * secrets. Rows in, rows out; the wrapping, sealing and auditing stay in security/vault.ts.
 */
export interface OrgKeyRow {
  orgId: string;
  keyVersion: number;
  masterVersion: number;
  wrappedKey: Buffer;
}

export interface SecretRow {
  id: string;
  orgId: string;
  kind: string;
  keyVersion: number;
  nonce: Buffer;
  ciphertext: Buffer;
}

/** The org's newest data-key version, or null when it has none. */
export async function latestOrgKeyVersion(db: Queryable, orgId: string): Promise<number | null> {
  const [row] = await db.query<{ v: number | null }>('SELECT max(key_version) AS v FROM org_keys WHERE org_id = $1', [orgId]);
  return row && row.v !== null ? Number(row.v) : null;
}

export async function insertOrgKey(db: Queryable, key: OrgKeyRow): Promise<void> {
  await db.query('INSERT INTO org_keys (org_id, key_version, master_version, wrapped_key) VALUES ($1, $2, $3, $4)', [
    key.orgId,
    key.keyVersion,
    key.masterVersion,
    key.wrappedKey,
  ]);
}

export async function getOrgKey(db: Queryable, orgId: string, keyVersion: number): Promise<OrgKeyRow | null> {
  const [row] = await db.query<{ master_version: number; wrapped_key: Buffer }>(
    'SELECT master_version, wrapped_key FROM org_keys WHERE org_id = $1 AND key_version = $2',
    [orgId, keyVersion],
  );
  return row ? { orgId, keyVersion, masterVersion: Number(row.master_version), wrappedKey: Buffer.from(row.wrapped_key) } : null;
}

/** Every org data key wrapped by another master version than `masterVersion`. */
export async function listOrgKeysNotWrappedBy(db: Queryable, masterVersion: number): Promise<OrgKeyRow[]> {
  const rows = await db.query<{ org_id: string; key_version: number; master_version: number; wrapped_key: Buffer }>(
    'SELECT org_id, key_version, master_version, wrapped_key FROM org_keys WHERE master_version <> $1',
    [masterVersion],
  );
  return rows.map((r) => ({
    orgId: r.org_id,
    keyVersion: Number(r.key_version),
    masterVersion: Number(r.master_version),
    wrappedKey: Buffer.from(r.wrapped_key),
  }));
}

/**
 * Replaces one data key's wrapping, only if it is still wrapped by `key.masterVersion`
 * (a concurrent rewrap wins). Returns whether the row was updated.
 */
export async function rewrapOrgKey(db: Queryable, key: OrgKeyRow, wrapped: { masterVersion: number; wrappedKey: Buffer }): Promise<boolean> {
  const updated = await db.query(
    `UPDATE org_keys SET master_version = $1, wrapped_key = $2, rewrapped_at = now()
      WHERE org_id = $3 AND key_version = $4 AND master_version = $5 RETURNING 1`,
    [wrapped.masterVersion, wrapped.wrappedKey, key.orgId, key.keyVersion, key.masterVersion],
  );
  return updated.length > 0;
}

export async function insertSecret(db: Queryable, secret: SecretRow): Promise<void> {
  await db.query('INSERT INTO secrets (id, org_id, kind, key_version, nonce, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)', [
    secret.id,
    secret.orgId,
    secret.kind,
    secret.keyVersion,
    secret.nonce,
    secret.ciphertext,
  ]);
}

export async function getSecret(db: Queryable, id: string): Promise<SecretRow | null> {
  const [row] = await db.query<{ org_id: string; kind: string; key_version: number; nonce: Buffer; ciphertext: Buffer }>(
    'SELECT org_id, kind, key_version, nonce, ciphertext FROM secrets WHERE id = $1',
    [id],
  );
  return row
    ? { id, orgId: row.org_id, kind: row.kind, keyVersion: Number(row.key_version), nonce: Buffer.from(row.nonce), ciphertext: Buffer.from(row.ciphertext) }
    : null;
}
