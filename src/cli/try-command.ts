// `userz try`: the run stage on this machine (src/pipeline/try.ts, docs/try.md).
import { join } from 'node:path';
import { UserzError } from '../errors.js';
import { createModelClient } from '../model/index.js';
import { renderTryResult, tryRun } from '../pipeline/index.js';
import { DockerRunscDriver } from '../sandbox/index.js';
import type { Command } from './command.js';

export const TRY_COMMAND: Command = {
  name: 'try',
  summary: 'Run triage and the agent on a local repository in the real sandbox, with setup, checks and the guardrail; writes to no forge',
  usage: 'userz try --repo PATH --report FILE [--script FILE] [--json]',
  help: [
    '--repo     a git checkout (its HEAD commit runs) or a plain folder (copied and committed once)',
    '--report   a report as JSON: {"text": "...", "console": [...], ...}',
    '--script   a scripted model transcript instead of the configured model (docs/try.md)',
    '--json     one JSON object: {triage, outcome, setup, checks, reproduced, verdict, diff, cost, egress, ...}',
    'Exit code 0 when a run would open a draft, 1 when it would not. Needs root and dockerd with runsc, as the worker does.',
  ].join('\n'),
  options: { repo: { type: 'string' }, report: { type: 'string' }, script: { type: 'string' }, json: { type: 'boolean' } },
  async run(args) {
    const repoPath = args.values.repo as string | undefined;
    const reportFile = args.values.report as string | undefined;
    if (!repoPath || !reportFile) throw new UserzError('invalid_input', 'give --repo PATH and --report FILE');
    const config = args.config();
    const m = config.model;
    const models = m
      ? {
          classifier: createModelClient({ provider: m.provider, apiKey: m.apiKey, baseUrl: m.baseUrl, model: m.classifierModel }),
          agent: createModelClient({ provider: m.provider, apiKey: m.apiKey, baseUrl: m.baseUrl, model: m.agentModel }),
        }
      : undefined;
    const c = config.sandbox;
    const sandbox = await DockerRunscDriver.open({
      image: c.image,
      poolSize: 0,
      workspaceRoot: join(config.dataDir, 'sandboxes'),
      limits: {
        memoryBytes: c.memoryMb * 1024 * 1024,
        cpus: c.cpus,
        pids: c.pids,
        workspaceBytes: c.workspaceMb * 1024 * 1024,
        wallClockMs: c.wallClockSeconds * 1000,
      },
    });
    try {
      const result = await tryRun({ repoPath, reportFile, scriptFile: args.values.script as string | undefined, models, sandbox, egressLists: c.egressLists });
      process.stdout.write(args.values.json ? `${JSON.stringify(result)}\n` : renderTryResult(result));
      return result.wouldOpenDraft ? 0 : 1;
    } finally {
      await sandbox.close();
    }
  },
};
