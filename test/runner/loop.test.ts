import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { serveRunner } from '../../src/broker/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { PROTOCOL_VERSION, runAgentLoop, type RunnerExit } from '../../src/runner/index.js';
import { createTempRepo, type TempRepo } from './temp-repo.js';

let repo: TempRepo;
beforeEach(() => {
  repo = createTempRepo({ 'README.md': '# demo\n', 'src/app.js': 'export const greeting = "helo";\n', 'src/other.js': 'export {};\n' });
});
afterEach(() => repo.remove());

/** Runner and broker in one process, joined by two pipes as stdio would join them. */
function connect(): { hostToRunner: PassThrough; runnerToHost: PassThrough } {
  return { hostToRunner: new PassThrough(), runnerToHost: new PassThrough() };
}

const BUDGET = { maxTurns: 10, maxInputTokens: 1_000_000, maxOutputTokens: 100_000, maxCostUsd: 5 };

test('a scripted agent that edits two files leaves exactly those two files changed', async () => {
  const client = new ScriptedModelClient([
    { toolCalls: [{ id: 'c1', name: 'search', arguments: { pattern: 'helo' } }] },
    (request) => {
      // The model sees the tool result the runner produced.
      const last = request.messages[request.messages.length - 1];
      expect(last).toEqual({ role: 'tool', toolCallId: 'c1', name: 'search', content: 'src/app.js:1: export const greeting = "helo";' });
      return {
        toolCalls: [
          { id: 'c2', name: 'edit_file', arguments: { path: 'src/app.js', search: '"helo"', replace: '"hello"' } },
          { id: 'c3', name: 'write_file', arguments: { path: 'docs/CHANGES.md', content: 'Fixed the greeting.\n' } },
        ],
      };
    },
    { toolCalls: [{ id: 'c4', name: 'git', arguments: { args: ['status', '--porcelain'] } }] },
    { content: 'Fixed the typo in the greeting and noted it.' },
  ]);
  const { hostToRunner, runnerToHost } = connect();
  const [exit, outcome] = await Promise.all([
    runAgentLoop({ io: { input: hostToRunner, output: runnerToHost }, workspace: repo.root }),
    serveRunner({ fromRunner: runnerToHost, toRunner: hostToRunner, client, task: { system: 'You fix bugs.', prompt: 'Fix the greeting.' }, budget: BUDGET }),
  ]);

  expect(exit).toEqual<RunnerExit>({ status: 'done', summary: 'Fixed the typo in the greeting and noted it.' });
  expect(outcome).toMatchObject({ kind: 'completed', summary: 'Fixed the typo in the greeting and noted it.', usage: { turns: 4 } });
  expect(repo.git('status', '--porcelain', '-uall')).toBe(' M src/app.js\n?? docs/CHANGES.md\n');
  expect(readFileSync(join(repo.root, 'src/app.js'), 'utf8')).toBe('export const greeting = "hello";\n');
  const toolResults = outcome.transcript.filter((e) => e.kind === 'tool_result');
  expect(toolResults.map((e) => e.kind === 'tool_result' && [e.callId, e.ok])).toEqual([
    ['c1', true],
    ['c2', true],
    ['c3', true],
    ['c4', true],
  ]);
  expect(client.requests[0]).toMatchObject({ system: 'You fix bugs.', messages: [{ role: 'user', content: 'Fix the greeting.' }] });
  expect(client.requests[0]!.tools!.map((t) => t.name)).toEqual(['read_file', 'write_file', 'edit_file', 'search', 'list_files', 'git']);
});

test('the runner refuses a task of another protocol version', async () => {
  const { hostToRunner, runnerToHost } = connect();
  const exitPromise = runAgentLoop({ io: { input: hostToRunner, output: runnerToHost }, workspace: repo.root });
  hostToRunner.write(`${JSON.stringify({ type: 'task', protocolVersion: 99, system: '', prompt: 'x', tools: [], maxTurns: 1 })}\n`);
  expect(await exitPromise).toMatchObject({ status: 'failed', code: 'protocol_version_mismatch' });
  expect(JSON.parse(String(runnerToHost.read()))).toMatchObject({ type: 'failed', code: 'protocol_version_mismatch' });
});

test('the runner stops on an oversized host line without buffering it whole', async () => {
  const { hostToRunner, runnerToHost } = connect();
  const exitPromise = runAgentLoop({ io: { input: hostToRunner, output: runnerToHost }, workspace: repo.root, maxLineBytes: 1024 });
  hostToRunner.write('{"type":"task","prompt":"' + 'x'.repeat(4096));
  expect(await exitPromise).toMatchObject({ status: 'failed', code: 'protocol_line_too_long' });
});

test('the runner exits on abort while waiting for a model answer', async () => {
  const { hostToRunner, runnerToHost } = connect();
  const exitPromise = runAgentLoop({ io: { input: hostToRunner, output: runnerToHost }, workspace: repo.root });
  hostToRunner.write(`${JSON.stringify({ type: 'task', protocolVersion: PROTOCOL_VERSION, system: '', prompt: 'x', tools: ['read_file'], maxTurns: 3 })}\n`);
  hostToRunner.write(`${JSON.stringify({ type: 'abort', reason: 'budget_exceeded:cost' })}\n`);
  expect(await exitPromise).toEqual({ status: 'aborted', reason: 'budget_exceeded:cost' });
});

test('the runner stops at the turn budget it was given', async () => {
  const client = new ScriptedModelClient(Array.from({ length: 3 }, (_, i) => ({ toolCalls: [{ id: `c${i}`, name: 'list_files', arguments: {} }] })));
  const { hostToRunner, runnerToHost } = connect();
  const [exit, outcome] = await Promise.all([
    runAgentLoop({ io: { input: hostToRunner, output: runnerToHost }, workspace: repo.root }),
    serveRunner({ fromRunner: runnerToHost, toRunner: hostToRunner, client, task: { system: 's', prompt: 'p' }, budget: { ...BUDGET, maxTurns: 2 } }),
  ]);
  // The runner counts the turn budget it was given and stops itself; the host reports a budget end.
  expect(exit).toMatchObject({ status: 'failed', code: 'runner_max_turns' });
  expect(outcome).toMatchObject({ kind: 'budget_exceeded', budget: 'turns', usage: { turns: 2 } });
  expect(client.remaining).toBe(1);
});

test('tool calls beyond the per-turn cap are answered without running', async () => {
  const calls = Array.from({ length: 34 }, (_, i) => ({ id: `c${i}`, name: 'write_file', arguments: { path: `gen/f${i}.txt`, content: 'x' } }));
  const client = new ScriptedModelClient([{ toolCalls: calls }, { content: 'ok' }]);
  const { hostToRunner, runnerToHost } = connect();
  const [, outcome] = await Promise.all([
    runAgentLoop({ io: { input: hostToRunner, output: runnerToHost }, workspace: repo.root }),
    serveRunner({ fromRunner: runnerToHost, toRunner: hostToRunner, client, task: { system: 's', prompt: 'p' }, budget: BUDGET }),
  ]);
  expect(outcome.kind).toBe('completed');
  const results = outcome.transcript.flatMap((e) => (e.kind === 'tool_result' ? [e] : []));
  expect(results).toHaveLength(34);
  expect(results.slice(32).map((r) => [r.ok, r.output])).toEqual([
    [false, 'not run: at most 32 tool calls per turn'],
    [false, 'not run: at most 32 tool calls per turn'],
  ]);
  expect(repo.git('status', '--porcelain', '-uall').trim().split('\n')).toHaveLength(32);
});
