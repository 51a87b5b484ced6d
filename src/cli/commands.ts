import type { Config } from '../config/index.js';
import { UserzError, errorMessage } from '../errors.js';
import { createLogger } from '../log/index.js';
import { runGuardrailCheck } from '../guardrail/index.js';
import { createModelClient } from '../model/index.js';
import { runDoctor, runSandboxBuild, sandboxRun } from '../sandbox/index.js';
import { generateKeyringEntry } from '../security/index.js';
import { runTriageExplain } from '../triage/index.js';
import type { Command, CommandArgs } from './command.js';
import { DATA_COMMANDS } from './data-commands.js';
import { runOp } from './run-op.js';
import { startUserz } from './start.js';
import { TRY_COMMAND } from './try-command.js';
import { WORKERS } from './workers.js';

export type { Command } from './command.js';

const json = { json: { type: 'boolean' as const } };
const print = (args: CommandArgs, value: unknown, human: string) => {
  process.stdout.write(args.values.json ? `${JSON.stringify(value)}\n` : `${human}\n`);
};

export const COMMANDS: Command[] = [
  {
    name: 'start',
    summary: 'Start the Userz server (web and worker roles)',
    usage: 'userz start [--role all|web|worker]',
    help: 'With no environment: PGlite in ./.userz, in-memory cache, local blobs, port 3000.\nSee README.md for DATABASE_URL, REDIS_URL and the GitHub App variables.',
    options: { role: { type: 'string' } },
    async run(args) {
      const role = args.values.role as string | undefined;
      if (role !== undefined && !['all', 'web', 'worker'].includes(role)) throw new UserzError('invalid_input', '--role must be all, web or worker');
      const config = args.config();
      const log = createLogger({ level: config.logLevel });
      const running = await startUserz(config, log, { role: role as Config['role'] | undefined, workers: WORKERS });
      const shutdown = (signal: string) => {
        log.info({ signal }, 'Shutting down');
        // A shutdown step that fails must still end the process (with 1): unhandled, the
        // rejection would be logged by the process guard and the process would stay up.
        running.stop().then(
          () => process.exit(0),
          (e: unknown) => {
            log.error({ err: errorMessage(e) }, 'Shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      return 0;
    },
  },
  {
    name: 'migrate',
    summary: 'Apply database migrations (also done at every start)',
    usage: 'userz migrate [--json]',
    options: json,
    async run(args) {
      const r = (await runOp(args.config(), 'migrate', {})) as { applied: string[]; alreadyApplied: number };
      print(args, r, r.applied.length ? `Applied ${r.applied.join(', ')}` : `Up to date (${r.alreadyApplied} migrations)`);
      return 0;
    },
  },
  {
    name: 'init',
    summary: 'Create the first org and print its first sk_ API key (shown once); --owner names its first console owner',
    usage: 'userz init [--name NAME] [--owner EMAIL] [--json]',
    help: 'With --owner, that address becomes owner of the org in the console once it signs up and verifies (at once if it already has).',
    options: { name: { type: 'string' }, owner: { type: 'string' }, ...json },
    async run(args) {
      const input = { name: args.values.name ?? 'default', ...(args.values.owner ? { owner: args.values.owner } : {}) };
      const r = (await runOp(args.config(), 'init', input)) as { orgId: string; orgName: string; apiKey: string; owner?: string };
      const owner = r.owner ? `\nConsole owner: ${r.owner} (owner once signed up with a verified address).` : '';
      print(args, r, `Created org ${r.orgName} (${r.orgId}).${owner}\nAPI key (shown once, store it now):\n${r.apiKey}`);
      return 0;
    },
  },
  {
    name: 'keys rotate',
    summary: 'Rewrap every org key with the newest master key version, without downtime',
    usage: 'userz keys rotate [--json]',
    help: 'Embedded default: adds a new version to .userz/master.keys, then rewraps.\nWith USERZ_MASTER_KEY: put the new VERSION:KEY first (keep the old one), restart, run this, then drop the old version.',
    options: json,
    async run(args) {
      const r = (await runOp(args.config(), 'keys.rotate', {})) as { masterVersion: number; rewrapped: number };
      print(args, r, `Master key version ${r.masterVersion}; rewrapped ${r.rewrapped} org keys`);
      return 0;
    },
  },
  {
    name: 'keys generate',
    summary: 'Print a new master key entry for USERZ_MASTER_KEY',
    usage: 'userz keys generate [--version N]',
    options: { version: { type: 'string' } },
    async run(args) {
      const version = Number(args.values.version ?? '1');
      if (!Number.isInteger(version) || version < 1) throw new UserzError('invalid_input', '--version must be a positive integer');
      process.stdout.write(`${generateKeyringEntry(version)}\n`);
      return 0;
    },
  },
  {
    name: 'repos link-installation',
    summary: 'Link a GitHub App installation (its repos now and later) to an org',
    usage: 'userz repos link-installation --installation ID [--org ORG] [--json]',
    options: { installation: { type: 'string' }, org: { type: 'string' }, ...json },
    async run(args) {
      if (!args.values.installation) throw new UserzError('invalid_input', '--installation is required');
      const r = (await runOp(args.config(), 'repos.link-installation', { installationId: args.values.installation, org: args.values.org })) as {
        orgId: string;
        repos: number;
      };
      print(args, r, `Linked installation ${args.values.installation} (${r.repos} repos so far) to ${r.orgId}`);
      return 0;
    },
  },
  {
    name: 'app create',
    summary: 'Create an App (one per product): prints its pub_ key and, once, its signing secret',
    usage: 'userz app create --name NAME --origin https://… [--origin …] [--org ORG] [--repo REPO_ID] [--json]',
    help: '--org may be left out when there is one org. Origins are scheme://host[:port] allowed to use the widget.',
    options: { name: { type: 'string' }, origin: { type: 'string', multiple: true }, org: { type: 'string' }, repo: { type: 'string' }, ...json },
    async run(args) {
      if (!args.values.name) throw new UserzError('invalid_input', '--name is required');
      const r = (await runOp(args.config(), 'app.create', {
        name: args.values.name,
        origins: args.values.origin ?? [],
        org: args.values.org,
        repo: args.values.repo,
      })) as {
        appId: string;
        publicKey: string;
        signingSecret: string;
      };
      print(
        args,
        r,
        `Created App ${r.appId}\nPublic key (for the widget's data-userz-key): ${r.publicKey}\nSigning secret (shown once, for private-mode user tokens): ${r.signingSecret}`,
      );
      return 0;
    },
  },
  {
    name: 'repos add-gitlab',
    summary: 'Connect a GitLab project with its project access token (stored encrypted, never printed)',
    usage: 'userz repos add-gitlab --project ID_OR_PATH --token TOKEN [--base-url https://gitlab.example.com] [--org ORG] [--json]',
    options: { project: { type: 'string' }, token: { type: 'string' }, 'base-url': { type: 'string' }, org: { type: 'string' }, ...json },
    async run(args) {
      if (!args.values.project || !args.values.token) throw new UserzError('invalid_input', '--project and --token are required');
      const r = (await runOp(args.config(), 'repos.add-gitlab', {
        project: args.values.project,
        token: args.values.token,
        baseUrl: args.values['base-url'],
        org: args.values.org,
      })) as {
        repoId: string;
        fullName: string;
        webhookSecret: string;
        webhookPath: string;
      };
      print(
        args,
        r,
        `Connected ${r.fullName} (${r.repoId}).\nAdd a GitLab webhook for merge request events to ${r.webhookPath} with this secret token (shown once): ${r.webhookSecret}`,
      );
      return 0;
    },
  },
  {
    name: 'guardrail check',
    summary: 'Check a change set (JSON lines on stdin) against the default rules and a policy',
    usage: 'userz guardrail check [--policy FILE] < changes.jsonl',
    help: 'Each line: {"path": "...", "oldPath"?: "...", "mode"?: "100644"}. Exit 0 allowed, 1 rejected (one line per file), 2 bad input.',
    options: { policy: { type: 'string' } },
    async run(args) {
      return runGuardrailCheck({ policyFile: args.values.policy as string | undefined, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    },
  },
  {
    name: 'triage explain',
    summary: 'Show the prefilter signals, the classifier answer and the exact agent prompt a run would send for a report or a batch',
    usage: 'userz triage explain --file REPORT.json [--json]',
    help: 'The file holds one report ({"text": ..., "console"?, "page"?, "reporter"?}) or a batch {"reports": [{..., "receivedAt"?: ISO time}, ...]}; the prompt is built by the same function a run uses.',
    options: { file: { type: 'string' }, ...json },
    async run(args) {
      if (!args.values.file) throw new UserzError('invalid_input', '--file is required');
      const config = args.config();
      const m = config.model;
      const client = m ? createModelClient({ provider: m.provider, apiKey: m.apiKey, baseUrl: m.baseUrl, model: m.classifierModel }) : undefined;
      return runTriageExplain({ file: args.values.file as string, json: !!args.values.json, client, stdout: process.stdout, stderr: process.stderr });
    },
  },
  {
    name: 'sandbox build',
    summary: 'Build the sandbox images offline (debootstrap + docker import); skipped when current',
    usage: 'userz sandbox build',
    async run() {
      const tag = await runSandboxBuild(process.stderr);
      process.stdout.write(`${tag}\n`);
      return 0;
    },
  },
  {
    name: 'sandbox run',
    summary: "Run a command in a sandbox configured exactly as a run's; exits with the command's exit code",
    usage: 'userz sandbox run [--workspace DIR] -- CMD [ARG…]',
    options: { workspace: { type: 'string' } },
    async run(args) {
      if (args.passthrough.length === 0) throw new UserzError('invalid_input', 'give the command after --');
      const c = args.config().sandbox;
      const r = await sandboxRun({ workspace: args.values.workspace as string | undefined, argv: args.passthrough, config: { image: c.image } });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.stderr.write(`exit code ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}\n`);
      // The command's own exit code, as `docker run` gives it, so scripts can branch on it.
      return r.exitCode;
    },
  },
  {
    name: 'doctor',
    summary: 'Check dockerd, the runsc runtime and the images, and run a short isolation self-test',
    usage: 'userz doctor [--json]',
    options: json,
    async run(args) {
      const checks = await runDoctor({ image: args.config().sandbox.image });
      print(args, checks, checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n'));
      return checks.every((c) => c.ok) ? 0 : 1;
    },
  },
  TRY_COMMAND,
  ...DATA_COMMANDS,
];
