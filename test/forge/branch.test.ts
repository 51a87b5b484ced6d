import fc from 'fast-check';
import { branchForRun, runIdFromBranch } from '../../src/forge/branch.js';
import { createForge, type RepoRecord } from '../../src/forge/index.js';

describe('run branches', () => {
  it('round-trips run ids through userz/<run-id>, also as a full ref', () => {
    expect(branchForRun('run_01HX-abc')).toBe('userz/run_01HX-abc');
    expect(runIdFromBranch('userz/run_01HX-abc')).toBe('run_01HX-abc');
    expect(runIdFromBranch('refs/heads/userz/run_01HX-abc')).toBe('run_01HX-abc');
  });

  it('refuses run ids that could bend a ref name or a URL path', () => {
    for (const bad of ['', '../main', 'a/b', 'a b', 'a..b', '-lead', 'x'.repeat(81), 'a\n', 'a~1', 'a^', 'a:b', 'a?', 'a@{1}']) {
      expect(() => branchForRun(bad)).toThrow(expect.objectContaining({ code: 'forge_invalid_run_id' }));
    }
  });

  it('only ever yields run ids made of letters, digits, _ and -', () => {
    fc.assert(
      fc.property(fc.string(), (ref) => {
        const id = runIdFromBranch(`userz/${ref}`);
        expect(id === null || /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(id)).toBe(true);
      }),
    );
  });
});

describe('createForge', () => {
  const repo: RepoRecord = { id: 'r', forge: 'github', externalId: '1', fullName: 'a/b', baseUrl: '', installationId: 1, defaultBranch: 'main' };

  it('picks the implementation by the repo forge', () => {
    expect(createForge(repo, { github: { appId: 1, privateKey: 'k' } }).name).toBe('github');
    expect(createForge({ ...repo, forge: 'gitlab' }, { gitlabToken: async () => 't' }).name).toBe('gitlab');
  });

  it('fails clearly when the forge is not configured', () => {
    expect(() => createForge(repo, {})).toThrow(expect.objectContaining({ code: 'forge_not_configured' }));
    expect(() => createForge({ ...repo, forge: 'gitlab' }, {})).toThrow(expect.objectContaining({ code: 'forge_not_configured' }));
  });
});
