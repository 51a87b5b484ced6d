// Builders for change sets in guardrail tests (not a test file itself).
import type { ChangeSet, ChangeSetEntry } from '../../src/guardrail/index.js';

export function entry(path: string, fields: Partial<ChangeSetEntry> = {}): ChangeSetEntry {
  const content = fields.content ?? (fields.status === 'deleted' ? undefined : Buffer.from('x'));
  return {
    path,
    status: fields.oldPath === undefined ? 'modified' : 'renamed',
    mode: '100644',
    content,
    size: content?.length ?? 0,
    ...fields,
  };
}

export function changeSetOf(...entries: ChangeSetEntry[]): ChangeSet {
  return { baseCommit: 'a'.repeat(40), entries, totalBytes: entries.reduce((sum, e) => sum + e.size, 0) };
}

export function pathsOf(...paths: string[]): ChangeSet {
  return changeSetOf(...paths.map((p) => entry(p)));
}
