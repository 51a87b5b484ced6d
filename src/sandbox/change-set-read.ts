/**
 * Host side of the tree walk (tree-walk.ts): the base manifest recorded when the
 * repository was loaded, and the ChangeSet built from what changed since. Renames are
 * exact-content renames (same blob, same kind); anything else is a delete plus an add.
 */
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { FILE_MODE, type ChangeSet, type ChangeSetEntry } from '../guardrail/index.js';
import type { ChangeSetCaps } from './interface.js';

const ManifestLine = z.object({ p: z.string().min(1), m: z.string(), h: z.string(), c: z.string().optional() });
type ManifestLine = z.infer<typeof ManifestLine>;

const ChangedLine = z.union([
  z.object({ p: z.string().min(1), m: z.string(), h: z.string(), c: z.string() }),
  z.object({ p: z.string().min(1), d: z.literal(1) }),
  z.object({ over: z.enum(['files', 'bytes']) }),
]);

/** Path → mode and content hash of the tree as loaded. Held in host memory only. */
export type BaseManifest = Map<string, { m: string; h: string }>;

function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as unknown);
}

/** The manifest; `readAhead`, when given, receives the contents the walk was asked to carry (tree-walk.ts). */
export function parseManifest(text: string, readAhead?: Map<string, Buffer>): BaseManifest {
  const base: BaseManifest = new Map();
  for (const raw of jsonLines(text)) {
    const line: ManifestLine = ManifestLine.parse(raw);
    base.set(line.p, { m: line.m, h: line.h });
    if (line.c !== undefined) readAhead?.set(line.p, Buffer.from(line.c, 'base64'));
  }
  return base;
}

export function serializeManifest(base: BaseManifest): Buffer {
  return Buffer.from([...base].map(([p, { m, h }]) => JSON.stringify({ p, m, h }) + '\n').join(''));
}

function tooLarge(caps: ChangeSetCaps, what: string): UserzError {
  return new UserzError('changeset_too_large', `The change set has more ${what} than allowed`, {
    details: { maxFiles: caps.maxFiles, maxBytes: caps.maxBytes },
  });
}

const kindOf = (mode: string): string => (mode === FILE_MODE.symlink ? 'link' : mode === FILE_MODE.submodule ? 'gitlink' : 'file');

export function buildChangeSet(baseCommit: string, base: BaseManifest, walkOutput: string, caps: ChangeSetCaps): ChangeSet {
  const present: { path: string; mode: string; hash: string; content: Buffer }[] = [];
  const deleted: string[] = [];
  for (const raw of jsonLines(walkOutput)) {
    const line = ChangedLine.parse(raw);
    if ('over' in line) throw tooLarge(caps, line.over);
    if ('d' in line) deleted.push(line.p);
    else present.push({ path: line.p, mode: line.m, hash: line.h, content: Buffer.from(line.c, 'base64') });
  }

  // Exact renames: a vanished path whose blob and kind reappear under a new path.
  const vanishedByKey = new Map<string, string[]>();
  for (const path of deleted.sort()) {
    const b = base.get(path);
    if (!b || b.m === FILE_MODE.submodule) continue;
    const key = `${kindOf(b.m)}:${b.h}`;
    vanishedByKey.set(key, [...(vanishedByKey.get(key) ?? []), path]);
  }
  const renamedFrom = new Set<string>();
  const entries: ChangeSetEntry[] = [];
  for (const f of present.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const before = base.get(f.path);
    if (before) {
      entries.push({ path: f.path, status: 'modified', mode: f.mode, oldMode: before.m, content: f.content, size: f.content.length });
      continue;
    }
    const oldPath = vanishedByKey.get(`${kindOf(f.mode)}:${f.hash}`)?.shift();
    if (oldPath !== undefined && f.mode !== FILE_MODE.submodule) {
      renamedFrom.add(oldPath);
      const oldMode = base.get(oldPath)!.m;
      entries.push({ path: f.path, oldPath, status: 'renamed', mode: f.mode, oldMode, content: f.content, size: f.content.length });
    } else {
      entries.push({ path: f.path, status: 'added', mode: f.mode, content: f.content, size: f.content.length });
    }
  }
  for (const path of deleted) {
    if (renamedFrom.has(path)) continue;
    const mode = base.get(path)?.m ?? FILE_MODE.file;
    entries.push({ path, status: 'deleted', mode, oldMode: mode, size: 0 });
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const totalBytes = entries.reduce((sum, e) => sum + e.size, 0);
  if (entries.length > caps.maxFiles) throw tooLarge(caps, 'files');
  if (totalBytes > caps.maxBytes) throw tooLarge(caps, 'bytes');
  return { baseCommit, entries, totalBytes };
}
