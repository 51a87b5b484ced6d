/**
 * runStage in the real sandbox, on what it reads from the base tree before the agent starts:
 * the policy and the maintainers' instructions (read with the load, or by an exec of their
 * own when the policy names another file), and what it refuses to read.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Readable } from 'node:stream';
import { DEFAULT_RUN_BUDGET } from '../../src/broker/index.js';
import { createLogger } from '../../src/log/index.js';
import { ScriptedModelClient } from '../../src/model/index.js';
import { DEFAULT_RUNNER_COMMAND } from '../../src/pipeline/deps.js';
import { runStage, type StageResult } from '../../src/pipeline/run-stage.js';
import { DockerRunscDriver, type SandboxDriver } from '../../src/sandbox/index.js';
import { prepareSandboxEngine, testSandboxConfig } from '../sandbox/engine.js';
import { repositoryTar, type RepoFile } from '../sandbox/tar-stream-repo.js';

jest.setTimeout(120_000);

let driver: SandboxDriver;
beforeAll(async () => {
  prepareSandboxEngine();
  driver = await DockerRunscDriver.open(testSandboxConfig('run-stage', { poolSize: 1 }));
});
afterAll(async () => {
  await driver?.close();
});

/** runStage on a tree of `files` with a scripted agent (by default one that changes nothing). */
async function stageOn(
  files: RepoFile[],
  script: ConstructorParameters<typeof ScriptedModelClient>[0] = [{ content: 'Nothing to change.' }],
): Promise<{ stage: StageResult; agent: ScriptedModelClient; system: string; policyText: string | null }> {
  const sandbox = await driver.acquire(`run_stage_${Math.random().toString(36).slice(2)}`);
  const agent = new ScriptedModelClient(script);
  try {
    const stage = await runStage({
      sandbox,
      archive: { tar: repositoryTar('acme-app-1', files) as Readable, baseCommit: 'b'.repeat(40) },
      agent,
      budget: { ...DEFAULT_RUN_BUDGET },
      task: { system: 'SYSTEM', prompt: 'PROMPT' },
      runnerCommand: [...DEFAULT_RUNNER_COMMAND],
      log: createLogger({ level: 'silent' }),
    });
    expect(stage.outcome?.kind).toBe('completed');
    return { stage, agent, system: agent.requests[0]!.system ?? '', policyText: stage.policyText };
  } finally {
    await sandbox.destroy();
  }
}

const MANY_FILES: RepoFile[] = Array.from({ length: 1500 }, (_, i) => ({ path: `lib/m${i}.js`, content: `export const m${i} = ${i};\n` }));

describe('what the stage reads from the base tree', () => {
  it('puts AGENTS.md in the system prompt and hands back the policy text, both as the base tree has them', async () => {
    const policy = 'paths:\n  deny: ["secrets/**"]\n';
    const { system, policyText } = await stageOn([
      { path: '.userz.yml', content: policy },
      { path: 'AGENTS.md', content: 'Keep functions pure.\n' },
    ]);
    expect(policyText).toBe(policy);
    expect(system).toContain('Repository guidance from the maintainers (AGENTS.md at the base commit)');
    expect(system).toContain('Keep functions pure.');
  });

  it('reads the instructions file the policy names instead of AGENTS.md', async () => {
    const { system } = await stageOn([
      { path: '.userz.yml', content: 'instructions: docs/GUIDE.md\n' },
      { path: 'AGENTS.md', content: 'Not this one.\n' },
      { path: 'docs/GUIDE.md', content: 'Use tabs.\n' },
    ]);
    expect(system).toContain('(docs/GUIDE.md at the base commit)');
    expect(system).toContain('Use tabs.');
    expect(system).not.toContain('Not this one.');
  });

  it('reads neither a symlinked AGENTS.md nor a symlinked policy (they could point anywhere in the sandbox)', async () => {
    const { system, policyText } = await stageOn([
      { path: 'AGENTS.md', linkname: '/etc/passwd' },
      { path: '.userz.yml', linkname: 'README.md' },
      { path: 'README.md', content: 'instructions: README.md\n' },
    ]);
    expect(policyText).toBeNull();
    expect(system).toBe('SYSTEM');
  });

  it('holds the agent’s first answer until the base commit is made, so its edit is a change against the base and not part of it', async () => {
    // Enough files before it that committing them takes far longer than the agent's edit.
    const { stage, agent } = await stageOn(
      [...MANY_FILES, { path: 'zz/a.js', content: 'export const a = 1;\n' }],
      [
        { toolCalls: [{ id: 'c1', name: 'edit_file', arguments: { path: 'zz/a.js', search: '= 1', replace: '= 2' } }] },
        { toolCalls: [{ id: 'c2', name: 'git', arguments: { args: ['status', '--porcelain'] } }] },
        { content: 'Changed a.' },
      ],
    );
    const status = agent.requests[2]!.messages.filter((m) => m.role === 'tool').at(-1)!.content;
    expect(status).toContain(' M zz/a.js');
    expect(stage.changeSet!.entries.map((e) => e.path)).toEqual(['zz/a.js']);
  });

  it('cuts instructions past 16 KiB and says so', async () => {
    const { system } = await stageOn([{ path: 'AGENTS.md', content: `${'x'.repeat(16 * 1024)}TAIL-NOT-SEEN` }]);
    expect(system).toContain('[guidance cut at 16384 bytes]');
    expect(system).not.toContain('TAIL-NOT-SEEN');
  });
});
