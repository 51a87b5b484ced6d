import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * better-auth's secret (it signs the session cookie and OAuth state): USERZ_AUTH_SECRET when
 * set. Otherwise, on the embedded default, one made once and kept in `<dataDir>/auth.secret`
 * (mode 0600) like the local keyring; with Postgres, derived from the oldest master key
 * version (the same on every replica; dropping that version signs everyone out).
 */
export function authSecret(opts: { configured?: string; file?: string; masterKeyring?: string }): string {
  if (opts.configured) return opts.configured;
  if (opts.file) {
    if (!existsSync(opts.file)) {
      mkdirSync(dirname(opts.file), { recursive: true });
      writeFileSync(opts.file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    }
    chmodSync(opts.file, 0o600);
    return readFileSync(opts.file, 'utf8').trim();
  }
  if (!opts.masterKeyring) throw new Error('authSecret needs USERZ_AUTH_SECRET, a file or the master keyring');
  const oldest = opts.masterKeyring
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .sort((a, b) => Number(a.split(':')[0]) - Number(b.split(':')[0]))[0]!;
  return Buffer.from(hkdfSync('sha256', Buffer.from(oldest), Buffer.alloc(0), 'userz console auth secret', 32)).toString('base64url');
}
