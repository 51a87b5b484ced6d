/**
 * The change set is what the host reads out of a finished sandbox, what the guardrail
 * checks path by path, and what delivery commits: the same object all the way, so what
 * was checked is exactly what is pushed.
 */

/** Git file modes as they appear in trees. */
export const FILE_MODE = {
  file: '100644',
  executable: '100755',
  symlink: '120000',
  submodule: '160000',
} as const;
export type FileMode = string; // one of FILE_MODE's values when produced by Userz; anything when read from input

export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'renamed';

export interface ChangeSetEntry {
  /** Repository-relative POSIX path after the change (for deletes: the deleted path). */
  path: string;
  /** For renames: the path before the change. */
  oldPath?: string;
  status: ChangeStatus;
  /** Mode after the change (for deletes: the mode before). */
  mode: FileMode;
  /** Mode before the change, when the file existed (lets the guardrail see exec-bit flips). */
  oldMode?: FileMode;
  /** New content; absent for deletes. For symlinks: the link target. */
  content?: Buffer;
  /** Byte size of `content` (0 for deletes). */
  size: number;
}

export interface ChangeSet {
  /** Commit the workspace started from; delivery uses it as the parent. */
  baseCommit: string;
  entries: ChangeSetEntry[];
  /** Sum of entry sizes. */
  totalBytes: number;
}
