/**
 * Every word of a git tool call that git could read as a file name stays inside the
 * workspace: as a table of the known routes out, and as a property over random calls
 * built from those routes' pieces.
 */
import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runGit } from '../../src/runner/git-tool.js';
import { openWorkspace, type Workspace } from '../../src/runner/workspace-path.js';
import { createTempRepo, type TempRepo } from './temp-repo.js';

let repo: TempRepo;
let ws: Workspace;
/** Content of a file outside the workspace; it must never come back in any output. */
const CANARY = `outside-canary-${randomBytes(8).toString('hex')}`;
let secret: string;

beforeAll(async () => {
  repo = createTempRepo({ 'README.md': '# demo\n', 'src/app.js': 'export const api = "/api/v1";\n' });
  secret = join(repo.outside, 'secret.txt');
  writeFileSync(secret, `${CANARY}\n`);
  symlinkSync(repo.outside, join(repo.root, 'out-dir'));
  symlinkSync(secret, join(repo.root, 'out-file'));
  ws = await openWorkspace(repo.root);
});
afterAll(() => repo.remove());

const REFUSED = ['tool_git_refused', 'tool_path_refused'];

async function outcome(args: string[]): Promise<{ refused: string } | { output: string }> {
  try {
    return { output: (await runGit(ws, args)).output };
  } catch (e) {
    return { refused: (e as { code: string }).code };
  }
}

describe('git pathspecs', () => {
  const routesOut: Array<[string, () => string[]]> = [
    ['an absolute path after -- (diff turns into --no-index)', () => ['diff', '--', secret, '/dev/null']],
    ['/etc/passwd after --', () => ['diff', '--', '/etc/passwd', '/dev/null']],
    ['absolute paths before --', () => ['diff', secret, 'README.md']],
    ['diff --stat with an outside path', () => ['diff', '--stat', secret, 'README.md']],
    ['a relative path up and out', () => ['diff', '--', `../${relative(join(repo.root, '..'), secret)}`, 'README.md']],
    ['.. hidden inside a longer path', () => ['diff', '--', 'src/../../outside/secret.txt', 'README.md']],
    ['a home-relative path', () => ['diff', '--', '~/.gitconfig', 'README.md']],
    ['a backslash path', () => ['diff', '--', '..\\outside\\secret.txt', 'README.md']],
    [':(top) magic', () => ['diff', '--', ':(top)../outside/secret.txt', 'README.md']],
    [':/ magic', () => ['ls-files', ':/']],
    [':(glob) magic reaching up', () => ['ls-files', '--', ':(glob)../**']],
    [':(literal) magic on an absolute path', () => ['diff', '--', `:(literal)${secret}`, 'README.md']],
    [':! exclusion magic', () => ['grep', '-e', 'x', '--', ':!README.md']],
    ['an index path', () => ['show', ':README.md']],
    ['a directory symlink that leads out', () => ['grep', '-e', CANARY.slice(0, 6), '--', 'out-dir']],
    ['a file below a symlink that leads out', () => ['diff', '--', 'out-dir/secret.txt', 'README.md']],
    ['a file symlink that leads out', () => ['blame', 'out-file']],
    ['a file symlink that leads out, before --', () => ['log', 'out-file']],
    ['the repository itself', () => ['show', '--', '.git/config']],
    ['a revision with an outside path', () => ['show', 'HEAD:../outside/secret.txt']],
    ['a revision with an absolute path', () => ['show', `HEAD:${secret}`]],
    ['an absolute path dressed as a revision', () => ['diff', `${secret}:x`, 'README.md']],
    ['grep with an outside path after its pattern', () => ['grep', 'canary', secret]],
    ['status of an outside path', () => ['status', '--short', '--', secret]],
    ['mv into a symlink that leads out', () => ['mv', 'README.md', 'out-dir/README.md']],
  ];

  test.each(routesOut)('refuses %s', async (_name, args) => {
    const result = await outcome(args());
    expect(REFUSED).toContain((result as { refused?: string }).refused);
  });

  it('still serves the calls an agent makes', async () => {
    writeFileSync(join(repo.root, 'README.md'), '# changed\n');
    const ok = async (args: string[]) => {
      const r = await runGit(ws, args);
      expect([args.join(' '), r.ok]).toEqual([args.join(' '), true]);
      return r.output;
    };
    expect(await ok(['diff', '--', 'README.md'])).toContain('+# changed');
    expect(await ok(['diff', 'HEAD', '--stat', '--', 'README.md', 'src'])).toContain('README.md');
    expect(await ok(['show', 'HEAD:src/app.js'])).toContain('/api/v1');
    expect(await ok(['log', '--oneline', 'HEAD~0', '--', 'src/*.js'])).toContain('base');
    // A grep pattern is not a path, even when it looks like one.
    expect(await ok(['grep', '-n', '/api/v1'])).toContain('src/app.js:1:');
    expect(await ok(['grep', '-e', '/api/v1', '--', 'src'])).toContain('src/app.js');
    expect(await ok(['ls-files', 'src'])).toBe('src/app.js\n');
    await ok(['restore', '--staged', '--', 'README.md']);
  });

  it('never prints a file outside the workspace, whatever the call (property)', async () => {
    const outsideRel = relative(repo.root, secret);
    const pieces = fc.constantFrom(
      secret,
      '/etc/passwd',
      '/dev/null',
      outsideRel,
      `./${outsideRel}`,
      `src/../${outsideRel}`,
      'out-dir/secret.txt',
      'out-dir',
      'out-file',
      'README.md',
      'src',
      'HEAD',
      `HEAD:${outsideRel}`,
      '~/x',
    );
    // Plain words weigh most: `diff A B` with one of them outside is the route that reads files.
    const magic = fc.oneof(
      { arbitrary: fc.constant(''), weight: 4 },
      { arbitrary: fc.constantFrom(':(top)', ':/', ':(glob)', ':(literal)', ':!', ':(icase)', './'), weight: 3 },
    );
    const word = fc.tuple(magic, pieces).map(([m, p]) => m + p);
    const call = fc.record({
      sub: fc.constantFrom('diff', 'diff', 'diff', 'log', 'show', 'grep', 'blame', 'ls-files', 'status', 'rev-parse'),
      options: fc.subarray(['-p', '--no-color', '-w']),
      words: fc.oneof(fc.tuple(word, word), fc.array(word, { minLength: 1, maxLength: 3 })),
      dashDash: fc.integer({ min: -1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(call, async ({ sub, options, words, dashDash }) => {
        const tail = dashDash >= 0 && dashDash <= words.length ? [...words.slice(0, dashDash), '--', ...words.slice(dashDash)] : words;
        const pattern = sub === 'grep' ? ['-e', 'canary'] : [];
        const result = await outcome([sub, ...options, ...pattern, ...tail]);
        if ('refused' in result) expect(REFUSED).toContain(result.refused);
        else expect(result.output).not.toContain(CANARY);
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
