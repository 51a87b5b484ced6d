import type { ChangeSet } from '../guardrail/index.js';

/**
 * The change set is stored as a blob between the sandbox and delivery, so a worker that
 * dies after the sandbox is gone resumes delivery from exactly what was checked.
 */
export function serializeChangeSet(cs: ChangeSet): Buffer {
  return Buffer.from(
    JSON.stringify({
      baseCommit: cs.baseCommit,
      totalBytes: cs.totalBytes,
      entries: cs.entries.map((e) => ({ ...e, content: e.content === undefined ? undefined : e.content.toString('base64') })),
    }),
  );
}

export function deserializeChangeSet(data: Buffer): ChangeSet {
  const raw = JSON.parse(data.toString('utf8')) as { baseCommit: string; totalBytes: number; entries: Array<Record<string, unknown> & { content?: string }> };
  return {
    baseCommit: raw.baseCommit,
    totalBytes: raw.totalBytes,
    entries: raw.entries.map((e) => ({
      ...(e as unknown as ChangeSet['entries'][number]),
      content: e.content === undefined ? undefined : Buffer.from(e.content, 'base64'),
    })),
  };
}
