// The shape of a `userz` command, apart from the command list (commands.ts) so the files that
// contribute commands (data-commands.ts) do not import the list that imports them.
import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config/index.js';

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
