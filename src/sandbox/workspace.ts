/**
 * The run's workspace on the host: a fixed-size ext4 image, loop-mounted and bind-mounted
 * into the container at /work. A file system of its own is the disk cap that works here
 * (`--storage-opt size=` needs xfs with pquota; writes past the image fail with ENOSPC).
 * Mounting needs root on the host.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, rmdir, stat, chown } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Workspace {
  /** Directory of this workspace under the root: holds `disk.ext4` and `mnt/`. */
  dir: string;
  /** Mount point, bind-mounted at /work. */
  mountPoint: string;
  /** The egress slot, bind-mounted read-only at /run/userz-egress: only setup's proxy socket ever appears in it. */
  egressDir: string;
}

export function workspacePaths(root: string, sandboxId: string): Workspace {
  const dir = join(root, sandboxId);
  return { dir, mountPoint: join(dir, 'mnt'), egressDir: join(dir, 'egress') };
}

export async function createWorkspace(root: string, sandboxId: string, sizeBytes: number): Promise<Workspace> {
  const ws = workspacePaths(root, sandboxId);
  const image = join(ws.dir, 'disk.ext4');
  await mkdir(ws.mountPoint, { recursive: true });
  await mkdir(ws.egressDir, { mode: 0o755 });
  try {
    await run('truncate', ['-s', String(sizeBytes), image]);
    // -m 0: the sandbox user gets every block; lazy init keeps an 8 GiB image a few MB and fast.
    await run('mkfs.ext4', ['-q', '-m', '0', '-E', 'lazy_itable_init=1,lazy_journal_init=1', image]);
    await run('mount', ['-o', 'loop,nosuid,nodev', image, ws.mountPoint]);
    await chown(ws.mountPoint, 1000, 1000);
    // Root-owned and unreadable by uid 1000: it would only get in the way of the tree walk.
    await rmdir(join(ws.mountPoint, 'lost+found'));
  } catch (e) {
    await removeWorkspace(ws);
    throw e;
  }
  return ws;
}

async function isMounted(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and the like octal-escaped.
  return info.split('\n').some((line) => line.split(' ')[4] === path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`));
}

/** Unmounts (which frees the loop device) and deletes. Safe to call on a partial or missing workspace. */
export async function removeWorkspace(ws: Workspace): Promise<void> {
  if (await isMounted(ws.mountPoint)) {
    try {
      await run('umount', [ws.mountPoint]);
    } catch {
      // Still busy (a container being torn down holds it): detach now, freed when released.
      await run('umount', ['-l', ws.mountPoint]);
    }
  }
  await rm(ws.dir, { recursive: true, force: true });
}

/** Sandbox ids with a workspace directory under the root, and when each was made. */
export async function listWorkspaces(root: string): Promise<{ sandboxId: string; createdAtMs: number }[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: { sandboxId: string; createdAtMs: number }[] = [];
  for (const name of names) {
    if (!SANDBOX_ID.test(name)) continue;
    const st = await stat(join(root, name)).catch(() => undefined);
    if (st?.isDirectory()) out.push({ sandboxId: name, createdAtMs: st.birthtimeMs || st.ctimeMs });
  }
  return out;
}

/** Sandbox ids are 16 hex digits; anything else under the root is not ours to delete. */
export const SANDBOX_ID = /^[0-9a-f]{16}$/;
