import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runGuardrailCheck } from '../../src/guardrail/index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'userz-guardrail-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString('utf8');
}

async function run(input: string | Buffer | NodeJS.ReadableStream, policyFile?: string, chunkSize?: number): Promise<Run> {
  let stdin: NodeJS.ReadableStream;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const bytes = Buffer.from(input);
    const size = chunkSize ?? bytes.length;
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    stdin = Readable.from(chunks);
  } else {
    stdin = input;
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const code = await runGuardrailCheck({ stdin, stdout, stderr, policyFile });
  return { code, stdout: out(), stderr: err() };
}

const lines = (...objects: unknown[]): string => objects.map((o) => `${JSON.stringify(o)}\n`).join('');

async function policy(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('userz guardrail check', () => {
  it('exits 0 and prints nothing when every path is allowed', async () => {
    const r = await run(lines({ path: 'src/a.ts' }, { path: 'docs/b.md', mode: '100644' }, { path: 'lib/c.ts', oldPath: 'lib/old.ts' }));
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exits 1 and prints one line per rejected file with its rules', async () => {
    const r = await run(lines({ path: 'src/a.ts' }, { path: '.env' }, { path: 'tools/x', mode: '120000' }, { path: 'ok.md', oldPath: 'infra/main.tf' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const out = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t').slice(0, 2));
    expect(out).toEqual([
      ['".env"', 'secrets.dotenv'],
      ['"tools/x"', 'mode.symlink'],
      ['"infra/main.tf"', 'infra'],
    ]);
  });

  it('joins several rules of one file on its one line', async () => {
    const r = await run(lines({ path: '.git/hooks/post-checkout', mode: '100755' }));
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]!.split('\t')[1]).toBe('path.git_component,git.metadata,mode.exec_on_forbidden');
  });

  it('escapes names so a newline or tab in a path cannot forge an output line', async () => {
    const r = await run(lines({ path: 'a\n"b"\tmode.symlink' }, { path: '\u202e.env' }));
    expect(r.code).toBe(1);
    const out = r.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^"a\\n\\"b\\"\\tmode\.symlink"\tpath\.control_char\t/);
    expect(out[1]).toMatch(/^"\\u202e\.env"\t/);
  });

  it('reports a change-set-wide violation apart from the files', async () => {
    const many = Array.from({ length: 501 }, (_, i) => ({ path: `f/${i}.txt` }));
    const r = await run(lines(...many));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\(change set\)\tsize\.too_many_files\t/);
  });

  it('reads lines split across chunks and CRLF line ends', async () => {
    const r = await run(`{"path":"src/a.ts"}\r\n{"path":".ENV"}\r\n\n{"path":"b.ts"}`, undefined, 3);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^"\.ENV"\tsecrets\.dotenv\t[^\n]*\n$/);
  });

  it('reads stdin from a real file stream', async () => {
    const file = join(dir, 'changes.jsonl');
    await writeFile(file, lines({ path: 'src/a.ts' }, { path: 'scripts/release/go.sh' }));
    const r = await run(createReadStream(file));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('release.scripts');
  });

  it.each([
    ['invalid JSON', '{"path":"a"}\n{"path":\n', /^userz guardrail check: line 2: not valid JSON/],
    ['a line without a path', lines({ path: 'a' }, { mode: '100644' }), /^userz guardrail check: line 2: "path": /],
    ['an unknown field', lines({ path: 'a', content: 'x' }), /^userz guardrail check: line 1: .*content/],
    ['a path that is not a string', lines({ path: 42 }), /^userz guardrail check: line 1: "path": /],
    ['a negative size', lines({ path: 'a', size: -1 }), /^userz guardrail check: line 1: "size": /],
  ])('exits 2 naming the bad line for %s', async (_what, input, message) => {
    const r = await run(input);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exits 2 on bytes that are not UTF-8', async () => {
    const r = await run(Buffer.concat([Buffer.from('{"path":"a"}\n{"path":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('userz guardrail check: line 2: not valid UTF-8\n');
  });

  it('exits 2 on an overlong line', async () => {
    const r = await run(`{"path":"${'a'.repeat(70_000)}"}\n`, undefined, 4096);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^userz guardrail check: line 1: longer than 65536 bytes\n$/);
  });

  it('keeps a NUL in a JSON-escaped name as a rejected path, not bad input', async () => {
    const r = await run('{"path":"a\\u0000b"}\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^"a\\u0000b"\tpath\.control_char\t/);
  });

  describe('--policy', () => {
    it('applies the policy allow list and forbid globs', async () => {
      const file = await policy('allow.yml', 'forbid: ["src/secret/**"]\nallow: ["src/**"]\n');
      const r = await run(lines({ path: 'src/a.ts' }, { path: 'lib/b.ts' }, { path: 'src/secret/k' }), file);
      expect(r.code).toBe(1);
      expect(
        r.stdout
          .trimEnd()
          .split('\n')
          .map((l) => l.split('\t').slice(0, 2)),
      ).toEqual([
        ['"lib/b.ts"', 'policy.not_allowed'],
        ['"src/secret/k"', 'policy.forbid.1'],
      ]);
    });

    it('exits 2 with a clear reason on a malformed policy', async () => {
      const file = await policy('bad.yml', 'remove:\n  - ".env"\n');
      const r = await run(lines({ path: 'src/a.ts' }), file);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^userz guardrail check: \.userz\.yml is invalid: .*remove/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    });

    it('exits 2 on a pathological glob in the policy', async () => {
      const file = await policy('braces.yml', 'forbid: ["{1..100000}"]\n');
      const r = await run(lines({ path: 'src/a.ts' }), file);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('expands to more than');
    });

    it('exits 2 when the policy file does not exist', async () => {
      const r = await run(lines({ path: 'src/a.ts' }), join(dir, 'missing.yml'));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^userz guardrail check: .*ENOENT/);
    });
  });
});
