import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config/index.js';
import { UserzError } from '../errors.js';
import { createLogger } from '../log/index.js';
import { generateKeyringEntry } from '../security/index.js';
import { runOp } from './run-op.js';
import { startUserz } from './start.js';
import { WORKERS } from './workers.js';

export interface CommandArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Words after `--`. */
  passthrough: string[];
  /** Parses the environment (throws ConfigError naming each bad variable). */
  config: () => Config;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  help?: string;
  options?: ParseArgsConfig['options'];
  positionals?: boolean;
  run(args: CommandArgs): Promise<number>;
}

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
        void running.stop().then(() => process.exit(0));
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
    summary: 'Create the first org and print its first sk_ API key (shown once)',
    usage: 'userz init [--name NAME] [--json]',
    options: { name: { type: 'string' }, ...json },
    async run(args) {
      const r = (await runOp(args.config(), 'init', { name: args.values.name ?? 'default' })) as { orgId: string; orgName: string; apiKey: string };
      print(args, r, `Created org ${r.orgName} (${r.orgId}).\nAPI key (shown once, store it now):\n${r.apiKey}`);
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
    summary: 'Assign a GitHub App installation\'s repos to an org',
    usage: 'userz repos link-installation --installation ID [--org ORG] [--json]',
    options: { installation: { type: 'string' }, org: { type: 'string' }, ...json },
    async run(args) {
      if (!args.values.installation) throw new UserzError('invalid_input', '--installation is required');
      const r = (await runOp(args.config(), 'repos.link-installation', { installationId: args.values.installation, org: args.values.org })) as { orgId: string; repos: number };
      print(args, r, `Linked ${r.repos} repos to ${r.orgId}`);
      return 0;
    },
  },
];
