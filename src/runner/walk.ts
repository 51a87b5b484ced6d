import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface WalkEntry {
  /** Workspace-relative POSIX path. */
  rel: string;
  abs: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
}

/**
 * Depth-first listing below `startAbs`, in name order. Never descends into `.git` (any
 * case) and never follows symlinks, so a walk cannot leave the workspace. Stops after
 * `maxEntries` and reports whether it did.
 */
export async function walkWorkspace(
  startAbs: string,
  startRel: string,
  opts: { recursive: boolean; maxEntries: number; deadline?: number },
): Promise<{ entries: WalkEntry[]; truncated: boolean }> {
  const entries: WalkEntry[] = [];
  const stack: Array<{ abs: string; rel: string }> = [{ abs: startAbs, rel: startRel }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const names = (await readdir(dir.abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    const subdirs: Array<{ abs: string; rel: string }> = [];
    for (const d of names) {
      if (d.name.toLowerCase() === '.git') continue;
      if (entries.length >= opts.maxEntries || (opts.deadline !== undefined && Date.now() > opts.deadline)) {
        return { entries, truncated: true };
      }
      const rel = dir.rel === '' ? d.name : `${dir.rel}/${d.name}`;
      const abs = join(dir.abs, d.name);
      const kind = d.isSymbolicLink() ? 'symlink' : d.isDirectory() ? 'dir' : d.isFile() ? 'file' : 'other';
      entries.push({ rel, abs, kind });
      if (kind === 'dir' && opts.recursive) subdirs.push({ abs, rel });
    }
    for (let i = subdirs.length - 1; i >= 0; i -= 1) stack.push(subdirs[i]!);
  }
  return { entries, truncated: false };
}
