import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { UserzError } from '../errors.js';
import {
  createScopedApiKey,
  getApiKeyByPrefix,
  markApiKeyRevoked,
  newId,
  randomBase62,
  recordAudit,
  type ApiKeySummary,
  type Queryable,
} from '../store/index.js';
import { SCOPES, type Scope } from '../tenant/index.js';

const scrypt = promisify(scryptCb) as (pw: Buffer, salt: Buffer, len: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;

/**
 * Customer API keys: `sk_<prefix:12>_<secret:43><checksum:6>`, all base62.
 * - The secret is 43 base62 chars (≈256 bits) from the CSPRNG.
 * - The checksum (CRC-32 of the rest, base62) lets secret scanners recognise a real key
 *   and lets us refuse typos and junk without touching the database.
 * - The prefix is public and indexed (UNIQUE), so lookup is one row; the secret is kept
 *   only as a salted scrypt hash and compared in constant time. Shown once, at creation.
 */
const KEY_RE = /^sk_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;
const SCRYPT = { N: 1 << 14, r: 8, p: 1 };
const HASH_LEN = 32;

/** The slow salted hash of a key's secret. A parameter so tests can count its calls. */
export type SecretHash = (secret: Buffer, salt: Buffer) => Promise<Buffer>;
export const scryptSecretHash: SecretHash = (secret, salt) => scrypt(secret, salt, HASH_LEN, SCRYPT);

/** The stored row behind a prefix: the salt and hash of its secret, and whether it is revoked. */
export interface ApiKeyRow {
  id: string;
  orgId: string;
  salt: Buffer;
  hash: Buffer;
  revoked: boolean;
  scopes: Scope[];
}

export interface IssuedApiKey {
  id: string;
  orgId: string;
  /** The full key. Returned once; never stored, never logged. */
  key: string;
  prefix: string;
  summary: ApiKeySummary;
}

/** A key proven on a request: what keyPrincipal (tenant/) turns into a Principal. */
export interface VerifiedApiKey {
  id: string;
  orgId: string;
  prefix: string;
  scopes: Scope[];
}

export const invalidApiKey = () => new UserzError('invalid_api_key', 'The API key is missing, malformed, revoked or wrong');

export function formatApiKey(prefix: string, secret: string): string {
  const body = `sk_${prefix}_${secret}`;
  return `${body}${checksum(body)}`;
}

/** Parses the shape and checksum only; no I/O. */
export function parseApiKey(key: string): { prefix: string; secret: string } | null {
  const m = KEY_RE.exec(key);
  if (!m) return null;
  const [, prefix, secret, sum] = m;
  if (checksum(`sk_${prefix}_${secret}`) !== sum) return null;
  return { prefix: prefix!, secret: secret! };
}

/**
 * Issues a key with `scopes` (default all three: the operator's first key from `userz init`).
 * Whether the creator may grant them is the caller's check (tenant's mayGrant).
 */
export async function issueApiKey(db: Queryable, orgId: string, opts: { label?: string; actor: string; scopes?: readonly Scope[] }): Promise<IssuedApiKey> {
  const id = newId('key');
  const prefix = randomBase62(12);
  const secret = randomBase62(43);
  const salt = randomBytes(16);
  const hash = await scryptSecretHash(Buffer.from(secret), salt);
  const scopes = SCOPES.filter((s) => (opts.scopes ?? SCOPES).includes(s));
  const summary = await createScopedApiKey(db, { id, orgId, prefix, salt, hash, label: opts.label ?? null, scopes });
  await recordAudit(db, { actor: opts.actor, action: 'api_key.create', orgId, subject: id, data: { prefix, scopes } });
  return { id, orgId, key: formatApiKey(prefix, secret), prefix, summary };
}

/**
 * Verifies a presented key; throws `invalid_api_key` (401) for every failure alike.
 * No limits and no cache: request paths go through ApiKeyVerifier (api-key-verifier.ts).
 */
export async function verifyApiKey(db: Queryable, presented: string | undefined, hash: SecretHash = scryptSecretHash): Promise<VerifiedApiKey> {
  const parsed = presented ? parseApiKey(presented.trim()) : null;
  if (!parsed) throw invalidApiKey();
  const row = await findApiKeyRow(db, parsed.prefix);
  if (!(await secretMatches(row, parsed.secret, hash)) || !row || row.revoked) throw invalidApiKey();
  return { id: row.id, orgId: row.orgId, prefix: parsed.prefix, scopes: row.scopes };
}

export async function findApiKeyRow(db: Queryable, prefix: string): Promise<ApiKeyRow | null> {
  return getApiKeyByPrefix(db, prefix);
}

/** One slow hash and a constant-time compare, also when the prefix is unknown (row null), so timing does not reveal which prefixes exist. */
export async function secretMatches(row: ApiKeyRow | null, secret: string, hash: SecretHash): Promise<boolean> {
  const actual = await hash(Buffer.from(secret), row ? row.salt : Buffer.alloc(16));
  const expected = row ? row.hash : Buffer.alloc(HASH_LEN, 0xff);
  return actual.length === expected.length && timingSafeEqual(actual, expected) && row !== null;
}

export async function revokeApiKey(db: Queryable, orgId: string, keyId: string, actor: string): Promise<boolean> {
  const revoked = await markApiKeyRevoked(db, orgId, keyId);
  if (revoked) await recordAudit(db, { actor, action: 'api_key.revoke', orgId, subject: keyId });
  return revoked;
}

// CRC-32 (IEEE), base62-encoded to 6 characters.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function checksum(text: string): string {
  let c = 0xffffffff;
  for (const byte of Buffer.from(text)) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  let n = (c ^ 0xffffffff) >>> 0;
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = alphabet[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
