import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { ToolCall } from '../../src/model/interface.js';
import { TOOL_NAMES } from '../../src/runner/protocol.js';
import { runTool } from '../../src/runner/tools.js';
import { openWorkspace, type Workspace } from '../../src/runner/workspace-path.js';
import { createTempRepo, type TempRepo } from './temp-repo.js';

let repo: TempRepo;
let ws: Workspace;

beforeAll(async () => {
  repo = createTempRepo({ 'README.md': '# demo\n', 'src/app.js': 'export const x = 1;\nexport const y = 1;\n', 'dup.txt': 'same\nsame\n' });
  symlinkSync(repo.outside, join(repo.root, 'out-dir'));
  symlinkSync(join(repo.outside, 'secret.txt'), join(repo.root, 'out-file'));
  symlinkSync('.git', join(repo.root, 'git-link'));
  symlinkSync(join(repo.outside, 'missing.txt'), join(repo.root, 'dangling'));
  ws = await openWorkspace(repo.root);
});
afterAll(() => repo.remove());

const call = (name: string, args: Record<string, unknown>): ToolCall => ({ id: 'c1', name, arguments: args });
const run = (name: string, args: Record<string, unknown>) => runTool(ws, TOOL_NAMES, call(name, args));

/** Every way of naming something outside the workspace or inside .git. */
const ESCAPES = [
  '../outside/secret.txt',
  'src/../../outside/secret.txt',
  '/etc/passwd',
  '~/x',
  'out-dir/secret.txt',
  'out-file',
  '.git/config',
  '.git/hooks/pre-commit',
  'src/.GIT/config',
  'git-link/config',
  'git-link/hooks/post-checkout',
  'dangling',
  'src\\..\\..\\x',
  'a\u0000b',
];

describe('workspace confinement', () => {
  test.each(ESCAPES)('read_file refuses %j', async (path) => {
    const result = await run('read_file', { path });
    expect(result.ok).toBe(false);
    expect(result.output).not.toContain('outside secret');
    expect(result.output).not.toContain('[core]');
  });

  test.each(ESCAPES)('write_file refuses %j and writes nothing outside', async (path) => {
    const result = await run('write_file', { path, content: 'pwned' });
    expect(result.ok).toBe(false);
    expect(readFileSync(join(repo.outside, 'secret.txt'), 'utf8')).toBe('outside secret\n');
    expect(existsSync(join(repo.outside, 'missing.txt'))).toBe(false);
    expect(readFileSync(join(repo.root, '.git', 'config'), 'utf8')).not.toContain('pwned');
    expect(existsSync(join(repo.root, '.git', 'hooks', 'pre-commit'))).toBe(false);
  });

  test.each(ESCAPES)('edit_file refuses %j', async (path) => {
    const result = await run('edit_file', { path, search: 'outside', replace: 'pwned' });
    expect(result.ok).toBe(false);
    expect(readFileSync(join(repo.outside, 'secret.txt'), 'utf8')).toBe('outside secret\n');
  });

  test.each(ESCAPES)('list_files refuses %j', async (path) => {
    const result = await run('list_files', { path });
    expect(result.ok).toBe(false);
    expect(result.output).not.toContain('secret.txt');
  });

  test.each(ESCAPES)('search refuses %j', async (path) => {
    const result = await run('search', { pattern: 'secret', path });
    expect(result.ok).toBe(false);
    expect(result.output).not.toContain('outside secret');
  });

  test('a write through a new directory under a symlink that leads out is refused', async () => {
    const result = await run('write_file', { path: 'out-dir/new/file.txt', content: 'x' });
    expect(result.ok).toBe(false);
    expect(existsSync(join(repo.outside, 'new'))).toBe(false);
  });

  test('property: no generated path with .. or .git or a leading / is ever written', async () => {
    const segment = fc.oneof(fc.constantFrom('..', '.git', '.GIT', '.Git', 'src', '.', '', 'out-dir', 'git-link', 'x'), fc.stringMatching(/^[a-z.]{1,6}$/));
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.boolean(), async (segments, absolute) => {
        const path = (absolute ? '/' : '') + segments.join('/');
        const named = segments.filter((s) => s !== '' && s !== '.');
        const dangerous = absolute || named.some((s) => s === '..' || s.toLowerCase() === '.git') || named[0] === 'out-dir' || named[0] === 'git-link';
        fc.pre(dangerous);
        const result = await run('write_file', { path, content: 'fc' });
        expect(result.ok).toBe(false);
        expect(readdirSync(repo.outside)).toEqual(['secret.txt']);
        expect(readFileSync(join(repo.root, '.git', 'config'), 'utf8')).not.toContain('fc');
      }),
      { numRuns: 200 },
    );
  });
});

describe('file tools', () => {
  test('write_file creates parent directories inside the workspace', async () => {
    const result = await run('write_file', { path: 'docs/new/guide.md', content: 'hi\n' });
    expect(result).toEqual({ ok: true, output: 'wrote 3 bytes to docs/new/guide.md' });
    expect(readFileSync(join(repo.root, 'docs/new/guide.md'), 'utf8')).toBe('hi\n');
  });

  test('edit_file replaces exactly one occurrence', async () => {
    const result = await run('edit_file', { path: 'src/app.js', search: 'const x = 1', replace: 'const x = 2' });
    expect(result.ok).toBe(true);
    expect(readFileSync(join(repo.root, 'src/app.js'), 'utf8')).toBe('export const x = 2;\nexport const y = 1;\n');
  });

  test('edit_file fails when the search text is absent', async () => {
    const result = await run('edit_file', { path: 'src/app.js', search: 'nowhere', replace: 'x' });
    expect(result).toEqual({ ok: false, output: expect.stringContaining('tool_edit_no_match') });
  });

  test('edit_file fails when the search text is ambiguous and leaves the file unchanged', async () => {
    const result = await run('edit_file', { path: 'dup.txt', search: 'same', replace: 'other' });
    expect(result).toEqual({ ok: false, output: expect.stringContaining('tool_edit_ambiguous') });
    expect(readFileSync(join(repo.root, 'dup.txt'), 'utf8')).toBe('same\nsame\n');
  });

  test('read_file returns a bounded slice with a marker for large files', async () => {
    writeFileSync(join(repo.root, 'big.txt'), 'a'.repeat(300 * 1024));
    const result = await run('read_file', { path: 'big.txt' });
    expect(result.ok).toBe(true);
    expect(result.output).toContain('more bytes; read again with offset 262144');
    expect(result.output.length).toBeLessThan(270 * 1024);
  });

  test('list_files never shows .git and marks directories', async () => {
    const result = await run('list_files', { recursive: true });
    expect(result.ok).toBe(true);
    expect(result.output.split('\n')).toEqual(expect.arrayContaining(['src/', 'src/app.js', 'out-dir (symlink)']));
    expect(result.output).not.toMatch(/(^|\/)\.git(\/|$)/m);
  });

  test('unknown tools and bad arguments are answered, not thrown', async () => {
    expect(await runTool(ws, ['read_file'], call('write_file', { path: 'a', content: 'b' }))).toEqual({ ok: false, output: 'unknown tool "write_file"' });
    expect((await run('read_file', { path: 42 })).output).toContain('invalid arguments');
  });
});

describe('search', () => {
  test('finds literal text with path and line, and does not follow symlinks out', async () => {
    mkdirSync(join(repo.root, 'lib'), { recursive: true });
    writeFileSync(join(repo.root, 'lib/find-me.txt'), 'one\nneedle here\n');
    const result = await run('search', { pattern: 'needle' });
    expect(result).toEqual({ ok: true, output: 'lib/find-me.txt:2: needle here' });
    expect((await run('search', { pattern: 'outside secret' })).output).toBe('no matches');
  });

  test('a catastrophic regex is stopped by the deadline instead of hanging the runner', async () => {
    writeFileSync(join(repo.root, 'redos.txt'), `${'a'.repeat(40)}!\n`);
    const result = await run('search', { pattern: '^(a+)+$', regex: true, path: 'redos.txt' });
    expect(result).toEqual({ ok: false, output: expect.stringContaining('tool_search_timeout') });
  }, 30_000);

  test('regex search returns matches', async () => {
    const result = await run('search', { pattern: 'ne+dle\\s', regex: true, path: 'lib' });
    expect(result).toEqual({ ok: true, output: 'lib/find-me.txt:2: needle here' });
  });
});

describe('bounded outputs', () => {
  test('write_file refuses content over the size cap', async () => {
    const result = await run('write_file', { path: 'huge.txt', content: 'x'.repeat(1024 * 1024 + 1) });
    expect(result).toEqual({ ok: false, output: expect.stringContaining('tool_content_too_large') });
    expect(existsSync(join(repo.root, 'huge.txt'))).toBe(false);
  });

  test('list_files stops at its entry cap and says so', async () => {
    mkdirSync(join(repo.root, 'many'));
    for (let i = 0; i < 2100; i += 1) writeFileSync(join(repo.root, 'many', `f${i}`), '');
    const result = await run('list_files', { path: 'many' });
    const lines = result.output.split('\n');
    expect(lines).toHaveLength(2001);
    expect(lines.at(-1)).toBe('[… listing stopped after 2000 entries]');
  });

  test('search stops at its match cap and says so', async () => {
    writeFileSync(join(repo.root, 'many-hits.txt'), 'hit\n'.repeat(500));
    const result = await run('search', { pattern: 'hit', path: 'many-hits.txt' });
    const lines = result.output.split('\n');
    expect(lines).toHaveLength(201);
    expect(lines.at(-1)).toBe('[… stopped after 200 matches]');
  });

  test('git output is truncated with a marker', async () => {
    writeFileSync(join(repo.root, 'wide.txt'), `${'w'.repeat(100)}\n`.repeat(2000));
    await run('git', { args: ['add', '-N', 'wide.txt'] });
    const diff = await run('git', { args: ['diff', '--', 'wide.txt'] });
    expect(diff.ok).toBe(true);
    expect(diff.output).toMatch(/\n\[… truncated \d+ bytes\]$/);
    expect(Buffer.byteLength(diff.output)).toBeLessThan(64 * 1024 + 100);
  });
});
