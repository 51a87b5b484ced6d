import { z } from 'zod';
import { errorMessage, isUserzError } from '../errors.js';
import { EditFileArgs, ReadFileArgs, WriteFileArgs, editWorkspaceFile, readWorkspaceFile, writeWorkspaceFile } from './file-tools.js';
import { GitArgs, runGit } from './git-tool.js';
import { truncateOutput } from './output-limit.js';
import { HOST_TOOL_NAMES, type HostToolName, type ToolCall, type ToolName, type ToolSpec } from './protocol.js';
import { ListFilesArgs, SearchArgs, listWorkspaceFiles, searchWorkspace } from './search-tools.js';
import type { Workspace } from './workspace-path.js';

export interface ToolOutcome {
  ok: boolean;
  output: string;
}

interface ToolDefinition {
  description: string;
  args: z.ZodObject;
  run(ws: Workspace, args: never): Promise<ToolOutcome>;
}

const succeed = (output: string): ToolOutcome => ({ ok: true, output });

const TOOLS: Record<Exclude<ToolName, HostToolName>, ToolDefinition> = {
  read_file: {
    description: 'Read a text file of the repository. Paths are relative to the repository root.',
    args: ReadFileArgs,
    run: async (ws, args: z.infer<typeof ReadFileArgs>) => succeed(await readWorkspaceFile(ws, args)),
  },
  write_file: {
    description: 'Create or overwrite a file with the given content. Parent directories are created.',
    args: WriteFileArgs,
    run: async (ws, args: z.infer<typeof WriteFileArgs>) => succeed(await writeWorkspaceFile(ws, args)),
  },
  edit_file: {
    description: 'Replace exactly one occurrence of `search` with `replace`. Fails if `search` is absent or occurs more than once.',
    args: EditFileArgs,
    run: async (ws, args: z.infer<typeof EditFileArgs>) => succeed(await editWorkspaceFile(ws, args)),
  },
  search: {
    description: 'Search file contents for a literal string (or a JavaScript regex with regex:true). Returns path:line: text.',
    args: SearchArgs,
    run: async (ws, args: z.infer<typeof SearchArgs>) => succeed(await searchWorkspace(ws, args)),
  },
  list_files: {
    description: 'List a directory of the repository (recursive:true for the whole tree). Directories end with /.',
    args: ListFilesArgs,
    run: async (ws, args: z.infer<typeof ListFilesArgs>) => succeed(await listWorkspaceFiles(ws, args)),
  },
  git: {
    description:
      'Run git with arguments, e.g. ["status"], ["diff","--cached"], ["log","--oneline","-n5"], ["add","path"]. ' +
      'Allowed: status, diff, log, show, ls-files, grep, blame, rev-parse, add, rm, mv, restore --staged.',
    args: GitArgs,
    run: (ws, args: z.infer<typeof GitArgs>) => runGit(ws, args.args),
  },
};

/** Forwarded to the host (loop.ts); the runner only checks the arguments' shape. */
const HOST_TOOLS: Record<HostToolName, { description: string; args: z.ZodObject }> = {
  run_checks: {
    description:
      "Ask the host to run the repository's configured checks (its tests) on your current changes. You cannot choose the commands. " +
      'Returns each command with its exit code and the end of its output, as untrusted data.',
    args: z.strictObject({}),
  },
  declare_reproducing_test: {
    description:
      'Name the test file you added or changed to reproduce the reported problem. The host runs it on the original tree (it should fail) ' +
      'and on your changed tree (it should pass).',
    args: z.strictObject({ path: z.string().min(1).max(200) }),
  },
};

export const isHostTool = (name: string): name is HostToolName => (HOST_TOOL_NAMES as readonly string[]).includes(name);

const definitionOf = (name: ToolName): { description: string; args: z.ZodObject } => (isHostTool(name) ? HOST_TOOLS[name] : TOOLS[name]);

export function toolSpecs(names: readonly ToolName[]): ToolSpec[] {
  return names.map((name) => {
    const { description, args } = definitionOf(name);
    const { $schema: _ignored, ...parameters } = z.toJSONSchema(args) as Record<string, unknown>;
    return { name, description, parameters };
  });
}

/** The host tool's arguments, or the answer the model gets when they do not fit. */
export function parseHostToolArgs(name: HostToolName, call: ToolCall): { ok: true; args: Record<string, unknown> } | { ok: false; outcome: ToolOutcome } {
  const parsed = HOST_TOOLS[name].args.safeParse(call.arguments);
  if (parsed.success) return { ok: true, args: parsed.data as Record<string, unknown> };
  return {
    ok: false,
    outcome: { ok: false, output: truncateOutput(`invalid arguments: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`) },
  };
}

/** Runs one call; every failure becomes an ok:false answer the model can read and react to. */
export async function runTool(ws: Workspace, enabled: readonly ToolName[], call: ToolCall): Promise<ToolOutcome> {
  if (!(enabled as readonly string[]).includes(call.name)) return { ok: false, output: `unknown tool "${call.name.slice(0, 60)}"` };
  if (isHostTool(call.name)) return { ok: false, output: `"${call.name}" is answered by the host` };
  const tool = TOOLS[call.name as Exclude<ToolName, HostToolName>];
  const parsed = tool.args.safeParse(call.arguments);
  if (!parsed.success) {
    return { ok: false, output: truncateOutput(`invalid arguments: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`) };
  }
  try {
    return await tool.run(ws, parsed.data as never);
  } catch (e) {
    // Expected refusals carry their own message; anything else is reported without a stack.
    return { ok: false, output: truncateOutput(isUserzError(e) ? `${e.code}: ${e.message}` : `error: ${errorMessage(e)}`) };
  }
}
