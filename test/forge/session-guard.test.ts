import { guardSession } from '../../src/forge/session-guard.js';
import type { DeliveryInput } from '../../src/forge/index.js';

describe('guardSession (the closed-session guard GitHub and GitLab sessions share)', () => {
  const archive = { tar: Buffer.alloc(0), baseCommit: 'a'.repeat(40) } as never;
  const delivery = { url: 'https://example.test/pr/1', number: 1, branch: 'userz/run_1', created: true } as never;

  it('passes calls through while open, refuses every call after close, and releases once', async () => {
    const calls: string[] = [];
    let releases = 0;
    const session = guardSession(
      {
        fetchArchive: async () => (calls.push('archive'), archive),
        readFile: async (path, ref) => (calls.push(`read ${path}@${ref}`), 'content'),
        deliverDraft: async (input) => (calls.push(`deliver ${input.runId}`), delivery),
        pushCommit: async (input) => (calls.push(`push ${input.branch}`), 'c'.repeat(40)),
        branchHead: async (branch) => (calls.push(`head ${branch}`), { sha: 'c'.repeat(40), message: 'm' }),
      },
      async () => {
        releases++;
      },
    );
    expect(await session.fetchArchive()).toBe(archive);
    expect(await session.readFile('.userz.yml', 'main')).toBe('content');
    expect(await session.deliverDraft({ runId: 'run_1' } as DeliveryInput)).toBe(delivery);
    expect(await session.branchHead('userz/run_1')).toEqual({ sha: 'c'.repeat(40), message: 'm' });
    await session.close();
    await session.close();
    expect(releases).toBe(1);
    await expect(session.fetchArchive()).rejects.toMatchObject({ code: 'forge_session_closed' });
    await expect(session.readFile('x', 'main')).rejects.toMatchObject({ code: 'forge_session_closed' });
    await expect(session.deliverDraft({ runId: 'run_2' } as DeliveryInput)).rejects.toMatchObject({ code: 'forge_session_closed' });
    await expect(session.branchHead('userz/run_1')).rejects.toMatchObject({ code: 'forge_session_closed' });
    expect(calls).toEqual(['archive', 'read .userz.yml@main', 'deliver run_1', 'head userz/run_1']);
  });

  it('closes without a release (GitLab: the project token is the customer’s)', async () => {
    const session = guardSession({
      fetchArchive: async () => archive,
      readFile: async () => null,
      deliverDraft: async () => delivery,
      pushCommit: async () => 'c'.repeat(40),
      branchHead: async () => null,
    });
    await session.close();
    await expect(session.readFile('x', 'main')).rejects.toMatchObject({ code: 'forge_session_closed' });
  });
});
