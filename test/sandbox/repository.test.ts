import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { UserzError } from '../../src/errors.js';
import { DockerRunscDriver, type Sandbox } from '../../src/sandbox/index.js';
import { prepareSandboxEngine, testSandboxConfig } from './engine.js';
import { repositoryTar } from './tar-stream-repo.js';

const SOURCE_COMMIT = 'f'.repeat(40);
let driver: DockerRunscDriver;

beforeAll(async () => {
  prepareSandboxEngine();
  driver = await DockerRunscDriver.open(testSandboxConfig('repo'));
}, 120_000);

afterAll(async () => {
  await driver?.close();
});

async function loaded(files = BASE_FILES): Promise<{ sandbox: Sandbox; baseCommit: string }> {
  const sandbox = await driver.acquire(`run-${Math.random().toString(36).slice(2)}`);
  const { baseCommit } = await sandbox.loadRepository(repositoryTar('acme-app-0a1b2c3', files), { sourceCommit: SOURCE_COMMIT });
  return { sandbox, baseCommit: await baseCommit };
}

async function sh(sandbox: Sandbox, script: string): Promise<string> {
  const res = await sandbox.exec(['sh', '-c', script]);
  if (res.exitCode !== 0) throw new Error(`exit ${res.exitCode}: ${res.stderr.toString()}`);
  return res.stdout.toString();
}

const body = (text: string) => ({ content: Buffer.from(text), size: Buffer.byteLength(text) });

const BASE_FILES = [
  { path: 'README.md', content: '# Acme\n' },
  { path: 'src/app.js', content: 'console.log("app");\n' },
  { path: 'src/util.js', content: 'export const x = 1;\n' },
  { path: 'src/old-name.js', content: 'export const moved = true;\n' },
  { path: 'docs/obsolete.md', content: 'old docs\n' },
  { path: 'scripts/build.sh', content: '#!/bin/sh\necho build\n' },
  { path: 'bin/run', content: '#!/bin/sh\n', mode: 0o755 },
];

describe('repository in', () => {
  it('unpacks the stream without its top folder into a git repository committed by Userz', async () => {
    const { sandbox, baseCommit } = await loaded();
    try {
      expect(baseCommit).toMatch(/^[0-9a-f]{40}$/);
      expect(await sh(sandbox, 'git rev-parse HEAD')).toBe(`${baseCommit}\n`);
      expect(await sh(sandbox, 'git log --format="%an <%ae>|%s"')).toBe('Userz <userz@users.invalid>|Repository as loaded by Userz\n');
      const tracked = (await sh(sandbox, 'git ls-files -s'))
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/ [0-9a-f]{40} 0\t/, ' '));
      expect(tracked.sort()).toEqual(
        [
          '100644 README.md',
          '100644 docs/obsolete.md',
          '100644 scripts/build.sh',
          '100644 src/app.js',
          '100644 src/old-name.js',
          '100644 src/util.js',
          '100755 bin/run',
        ].sort(),
      );
      expect(await sh(sandbox, 'git status --porcelain')).toBe('');
      expect(await sandbox.readChangeSet()).toEqual({ baseCommit: SOURCE_COMMIT, entries: [], totalBytes: 0 });
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);
});

describe('the base commit, made after the load resolves', () => {
  it('is waited for by the next exec and change-set read, which see it made', async () => {
    const sandbox = await driver.acquire(`run-${Math.random().toString(36).slice(2)}`);
    try {
      const { baseCommit } = await sandbox.loadRepository(repositoryTar('acme-app-0a1b2c3', BASE_FILES), { sourceCommit: SOURCE_COMMIT });
      // Not awaited first: the exec itself must wait for the commit.
      const head = sh(sandbox, 'git rev-parse HEAD && git status --porcelain');
      expect(await head).toBe(`${await baseCommit}\n`);
      expect(await sandbox.readChangeSet()).toEqual({ baseCommit: SOURCE_COMMIT, entries: [], totalBytes: 0 });
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);

  it('fails every later use with sandbox_load_failed when the commit cannot be made (the workspace is full)', async () => {
    const small = await DockerRunscDriver.open(testSandboxConfig('repo-full', { limits: { workspaceBytes: 24 * 1024 * 1024 } }));
    const sandbox = await small.acquire(`run-${Math.random().toString(36).slice(2)}`);
    try {
      // Fits once (the tree), not twice (the tree and git's copy of it): random bytes do not compress.
      const big = { path: 'big.bin', content: randomBytes(14 * 1024 * 1024) };
      const { baseCommit } = await sandbox.loadRepository(repositoryTar('acme-app-0a1b2c3', [...BASE_FILES, big]));
      await expect(baseCommit).rejects.toMatchObject({ code: 'sandbox_load_failed' });
      await expect(sandbox.exec(['true'])).rejects.toMatchObject({ code: 'sandbox_load_failed' });
      await expect(sandbox.readChangeSet()).rejects.toMatchObject({ code: 'sandbox_load_failed' });
    } finally {
      await sandbox.destroy();
      await small.close();
    }
  }, 90_000);
});

describe('files read ahead with the load', () => {
  it('carries the regular files asked for, cut at cap + 1 bytes, and never a symlink, a path through one or a missing file', async () => {
    const sandbox = await driver.acquire(`run-${Math.random().toString(36).slice(2)}`);
    try {
      const files = [
        ...BASE_FILES,
        { path: '.userz.yml', content: 'abcdefghij' },
        { path: 'AGENTS.md', linkname: 'README.md' },
        { path: 'linked', linkname: 'docs' },
      ];
      const { files: read } = await sandbox.loadRepository(repositoryTar('acme-app-0a1b2c3', files), {
        readAhead: { '.userz.yml': 4, 'docs/obsolete.md': 100, 'bin/run': 0, 'AGENTS.md': 100, 'linked/obsolete.md': 100, 'missing.md': 100 },
      });
      expect(Object.fromEntries([...read].map(([p, b]) => [p, b.toString()]))).toEqual({
        '.userz.yml': 'abcde',
        'docs/obsolete.md': 'old docs\n',
        'bin/run': '#',
      });
      // Nothing of it is kept as state: the change set is still empty.
      expect((await sandbox.readChangeSet()).entries).toEqual([]);
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);

  it('refuses a cap that is not a whole number of bytes, before anything is loaded', async () => {
    const sandbox = await driver.acquire(`run-${Math.random().toString(36).slice(2)}`);
    try {
      await expect(sandbox.loadRepository(repositoryTar('a', BASE_FILES), { readAhead: { 'README.md': 1.5 } })).rejects.toMatchObject({
        code: 'invalid_argument',
      });
      const { files } = await sandbox.loadRepository(repositoryTar('a', BASE_FILES), { readAhead: { 'README.md': 1 } });
      expect(files.get('README.md')?.toString()).toBe('# ');
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);
});

describe('change set out', () => {
  it('reports edits, an add, a delete, a rename, a symlink and an exec bit exactly', async () => {
    const { sandbox } = await loaded();
    try {
      await sh(
        sandbox,
        [
          'printf "# Acme app\\n" > README.md',
          'printf "console.log(\\"fixed\\");\\n" > src/app.js',
          'printf "new file\\n" > src/added.js',
          'rm docs/obsolete.md',
          'mv src/old-name.js src/new-name.js',
          'ln -s ../../etc/passwd src/link',
          'chmod +x scripts/build.sh',
        ].join(' && '),
      );
      const cs = await sandbox.readChangeSet();
      const entries = [
        { path: 'README.md', status: 'modified', mode: '100644', oldMode: '100644', ...body('# Acme app\n') },
        { path: 'docs/obsolete.md', status: 'deleted', mode: '100644', oldMode: '100644', size: 0 },
        { path: 'scripts/build.sh', status: 'modified', mode: '100755', oldMode: '100644', ...body('#!/bin/sh\necho build\n') },
        { path: 'src/added.js', status: 'added', mode: '100644', ...body('new file\n') },
        { path: 'src/app.js', status: 'modified', mode: '100644', oldMode: '100644', ...body('console.log("fixed");\n') },
        { path: 'src/link', status: 'added', mode: '120000', ...body('../../etc/passwd') },
        { path: 'src/new-name.js', oldPath: 'src/old-name.js', status: 'renamed', mode: '100644', oldMode: '100644', ...body('export const moved = true;\n') },
      ];
      expect(cs).toEqual({ baseCommit: SOURCE_COMMIT, entries, totalBytes: entries.reduce((n, e) => n + e.size, 0) });
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);

  it('computes from the tree, not from what the agent staged, committed or hid in git', async () => {
    const { sandbox } = await loaded();
    try {
      await sh(
        sandbox,
        [
          // Staged, then removed from the tree: not a change.
          'printf "ghost\\n" > ghost.txt && git add ghost.txt && rm ghost.txt',
          // Committed and ignored: still a change.
          'printf "hidden\\n" > .env.secret && printf ".env.secret\\n" > .git/info/exclude',
          'git -c user.name=a -c user.email=a@b commit -qm agent --allow-empty',
          // The base commit moved and the index rewritten: the host's manifest decides.
          'git update-ref refs/heads/main HEAD && git rm -q --cached README.md',
        ].join(' && '),
      );
      const cs = await sandbox.readChangeSet();
      expect(cs.entries.map((e) => [e.status, e.path])).toEqual([['added', '.env.secret']]);
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);

  it('keeps a nested repository as a gitlink so the guardrail can refuse it', async () => {
    const { sandbox } = await loaded();
    try {
      await sh(sandbox, 'mkdir vendor && cd vendor && git init -q && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m x');
      const head = (await sh(sandbox, 'git -C vendor rev-parse HEAD')).trim();
      const cs = await sandbox.readChangeSet();
      expect(cs.entries).toEqual([{ path: 'vendor', status: 'added', mode: '160000', content: Buffer.from(head), size: 40 }]);
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);

  it('refuses a change set over its file or byte cap', async () => {
    const { sandbox } = await loaded();
    try {
      await sh(sandbox, 'for i in 1 2 3 4 5; do echo $i > f$i.txt; done; head -c 200000 /dev/zero > big.bin');
      await expect(sandbox.readChangeSet({ maxFiles: 3, maxBytes: 10_000_000 })).rejects.toMatchObject({ code: 'changeset_too_large' });
      await expect(sandbox.readChangeSet({ maxFiles: 100, maxBytes: 100_000 })).rejects.toMatchObject({ code: 'changeset_too_large' });
      const cs = await sandbox.readChangeSet({ maxFiles: 6, maxBytes: 300_000 });
      expect(cs.entries).toHaveLength(6);
      const big = cs.entries.find((e) => e.path === 'big.bin');
      expect(createHash('sha256').update(big!.content!).digest('hex')).toBe(createHash('sha256').update(Buffer.alloc(200_000)).digest('hex'));
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);

  it('refuses to read a change set before a repository is loaded', async () => {
    const sandbox = await driver.acquire('run-empty');
    try {
      await expect(sandbox.readChangeSet()).rejects.toBeInstanceOf(UserzError);
    } finally {
      await sandbox.destroy();
    }
  }, 60_000);
});
