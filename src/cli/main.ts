import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { errorMessage, isUserzError } from '../errors.js';
import { COMMANDS, type Command } from './commands.js';

/**
 * `userz <command> [subcommand] [options]`. Every failure prints one line,
 * `userz: <message>`, to stderr and exits non-zero (2 for usage errors, 1 otherwise).
 */
async function main(argv: string[]): Promise<number> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  const command = findCommand(words);
  if (!command) {
    if (words.length === 0 || wantsHelp) {
      process.stdout.write(overview());
      return words.length === 0 && !wantsHelp ? 2 : 0;
    }
    return fail(`unknown command "${words.slice(0, 2).join(' ')}"; run \`userz --help\``, 2);
  }
  if (wantsHelp) {
    process.stdout.write(`${command.usage}\n\n${command.summary}\n${command.help ? `\n${command.help}\n` : ''}`);
    return 0;
  }
  const rest = argv.slice(argv.indexOf(command.name.split(' ').at(-1)!) + 1);
  const dashDash = rest.indexOf('--');
  let parsed;
  try {
    parsed = parseArgs({
      args: dashDash === -1 ? rest : rest.slice(0, dashDash),
      options: command.options ?? {},
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
  } catch (e) {
    return fail(`${errorMessage(e).replace(/\. To specify.*$/, '')}; see \`userz ${command.name} --help\``, 2);
  }
  try {
    return await command.run({
      values: parsed.values as Record<string, string | boolean | string[] | undefined>,
      positionals: parsed.positionals,
      passthrough: dashDash === -1 ? [] : rest.slice(dashDash + 1),
      config: () => loadConfig(process.env),
    });
  } catch (e) {
    return fail(isUserzError(e) ? e.message : errorMessage(e), 1);
  }
}

function findCommand(words: string[]): Command | undefined {
  const two = words.slice(0, 2).join(' ');
  return COMMANDS.find((c) => c.name === two) ?? COMMANDS.find((c) => c.name === words[0]);
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: userz <command> [options]\n\nCommands:\n${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}\n\nRun \`userz <command> --help\` for a command's options.\n`;
}

function fail(message: string, code: number): number {
  process.stderr.write(`userz: ${message.split('\n')[0]}\n`);
  return code;
}

// `start` returns once the server listens; the open server keeps the process alive.
process.exitCode = await main(process.argv.slice(2));
