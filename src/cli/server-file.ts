import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `<data dir>/server.json` (mode 0600) tells CLI commands that a server holds the embedded
 * database and how to reach its admin endpoint. It is removed on clean shutdown; a stale
 * file (dead pid) is ignored and replaced.
 */
export interface ServerFile {
  pid: number;
  url: string;
  adminToken: string;
}

export const serverFilePath = (dataDir: string) => join(dataDir, 'server.json');

export function readLiveServerFile(dataDir: string): ServerFile | null {
  const file = serverFilePath(dataDir);
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as ServerFile;
    return isAlive(parsed.pid) ? parsed : null;
  } catch {
    return null;
  }
}

export function writeServerFile(dataDir: string, info: ServerFile): void {
  writeFileSync(serverFilePath(dataDir), JSON.stringify(info), { mode: 0o600 });
}

export function removeServerFile(dataDir: string, pid = process.pid): void {
  const current = readLiveServerFile(dataDir);
  if (!current || current.pid === pid) rmSync(serverFilePath(dataDir), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
