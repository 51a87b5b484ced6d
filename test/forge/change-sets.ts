/** One change set with every kind of entry, shared by the GitHub and GitLab delivery tests. */
import type { ChangeSet, ChangeSetEntry } from '../../src/guardrail/change-set.js';
import type { DeliveryInput } from '../../src/forge/interface.js';

export const BASE = 'a'.repeat(40);

const file = (path: string, status: ChangeSetEntry['status'], text: string, extra: Partial<ChangeSetEntry> = {}): ChangeSetEntry => ({
  path,
  status,
  mode: '100644',
  content: Buffer.from(text),
  size: Buffer.byteLength(text),
  ...extra,
});

export const ENTRIES: ChangeSetEntry[] = [
  file('src/new.ts', 'added', 'export const added = true;\n'),
  file('src/app.ts', 'modified', 'export const fixed = true;\n', { oldMode: '100644' }),
  { path: 'old.txt', status: 'deleted', mode: '100644', size: 0 },
  file('docs/b.md', 'renamed', '# moved\n', { oldPath: 'docs/a.md', oldMode: '100644' }),
  file('bin/run.sh', 'added', '#!/bin/sh\necho hi\n', { mode: '100755' }),
];

export function changeSet(entries: ChangeSetEntry[] = ENTRIES): ChangeSet {
  return { baseCommit: BASE, entries, totalBytes: entries.reduce((n, e) => n + e.size, 0) };
}

export function deliveryInput(overrides: Partial<DeliveryInput> = {}): DeliveryInput {
  return {
    runId: 'run_1',
    changeSet: changeSet(),
    description: {
      title: 'Fix the login button for @everyone',
      summary: 'The login button did nothing on Safari. ![x](https://evil.example/p.png)',
      reportUrl: 'https://userz.example/reports/rep_1',
      guardrail: { checkedPaths: 6, ruleCount: 40 },
    },
    ...overrides,
  };
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64');
