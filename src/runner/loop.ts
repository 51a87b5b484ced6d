import type { Readable, Writable } from 'node:stream';
import { isUserzError, UserzError } from '../errors.js';
import { LineReader, parseLine, writeLine } from './lines.js';
import {
  HostMessage,
  MAX_LINE_BYTES,
  PROTOCOL_VERSION,
  type ModelMessage,
  type ModelRequest,
  type ModelResponse,
  type RunnerMessage,
  type ToolCall,
  type TaskMessage,
} from './protocol.js';
import { isHostTool, parseHostToolArgs, runTool, toolSpecs, type ToolOutcome } from './tools.js';
import { openWorkspace, type Workspace } from './workspace-path.js';

export interface RunnerIo {
  /** Lines from the host (process.stdin in the sandbox). */
  input: Readable;
  /** Lines to the host (process.stdout in the sandbox). */
  output: Writable;
}

export type RunnerExit = { status: 'done'; summary: string } | { status: 'failed'; code: string; message: string } | { status: 'aborted'; reason: string };

export interface AgentLoopOptions {
  io: RunnerIo;
  /** Repository root; every tool is confined to it. */
  workspace: string;
  maxLineBytes?: number;
}

/** More calls in one answer are answered without running them; every call still gets a result. */
export const MAX_TOOL_CALLS_PER_TURN = 32;

class Session {
  private nextId = 1;
  constructor(
    private readonly reader: LineReader,
    private readonly output: Writable,
    private readonly maxLineBytes: number,
  ) {}

  send(message: RunnerMessage): Promise<void> {
    return writeLine(this.output, message, this.maxLineBytes);
  }

  async receive(): Promise<HostMessage> {
    const line = await this.reader.next();
    if (line === null) throw new UserzError('protocol_host_closed', 'The host closed the channel');
    return parseLine(line, HostMessage);
  }

  newRequestId(): string {
    const id = `m${this.nextId}`;
    this.nextId += 1;
    return id;
  }
}

class Aborted extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

async function askModel(session: Session, request: ModelRequest): Promise<ModelResponse> {
  const id = session.newRequestId();
  await session.send({ type: 'model_request', id, request });
  const answer = await session.receive();
  if (answer.type === 'abort') throw new Aborted(answer.reason);
  if (answer.type !== 'model_response' || answer.id !== id) {
    throw new UserzError('protocol_unexpected', 'Expected the model response for the pending request');
  }
  return answer.response;
}

/** A host tool: the host runs it (the repository's checks) and answers with its output as data. */
async function askHost(session: Session, enabled: readonly string[], call: ToolCall): Promise<ToolOutcome> {
  if (!enabled.includes(call.name) || !isHostTool(call.name)) return { ok: false, output: `unknown tool "${call.name.slice(0, 60)}"` };
  const parsed = parseHostToolArgs(call.name, call);
  if (!parsed.ok) return parsed.outcome;
  const id = session.newRequestId();
  await session.send({ type: 'host_tool_request', id, name: call.name, arguments: parsed.args });
  const answer = await session.receive();
  if (answer.type === 'abort') throw new Aborted(answer.reason);
  if (answer.type !== 'host_tool_result' || answer.id !== id) {
    throw new UserzError('protocol_unexpected', 'Expected the host tool result for the pending request');
  }
  return { ok: answer.ok, output: answer.output };
}

type FinishedExit = Exclude<RunnerExit, { status: 'aborted' }>;

async function runTurns(session: Session, ws: Workspace, task: TaskMessage): Promise<FinishedExit> {
  const tools = toolSpecs(task.tools);
  const messages: ModelMessage[] = [{ role: 'user', content: task.prompt }];
  for (let turn = 0; turn < task.maxTurns; turn += 1) {
    const response = await askModel(session, {
      system: task.system,
      messages,
      tools,
      ...(task.maxOutputTokens ? { maxOutputTokens: task.maxOutputTokens } : {}),
    });
    messages.push({ role: 'assistant', content: response.content, ...(response.toolCalls.length ? { toolCalls: response.toolCalls } : {}) });
    if (response.toolCalls.length === 0) return { status: 'done', summary: response.content };
    for (const [index, call] of response.toolCalls.entries()) {
      const result =
        index >= MAX_TOOL_CALLS_PER_TURN
          ? { ok: false, output: `not run: at most ${MAX_TOOL_CALLS_PER_TURN} tool calls per turn` }
          : isHostTool(call.name)
            ? await askHost(session, task.tools, call)
            : await runTool(ws, task.tools, call);
      await session.send({ type: 'tool_result', callId: call.id, name: call.name, ok: result.ok, output: result.output });
      messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: result.output });
    }
  }
  return { status: 'failed', code: 'runner_max_turns', message: `Stopped after ${task.maxTurns} turns without finishing` };
}

/**
 * The agent loop: wait for the task, then ask the host for completions and run the tools
 * the model calls until it answers without tool calls. The runner holds no key and opens
 * no connection; the host decides every budget and may abort at any reply.
 */
export async function runAgentLoop(opts: AgentLoopOptions): Promise<RunnerExit> {
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const session = new Session(new LineReader(opts.io.input, maxLineBytes), opts.io.output, maxLineBytes);
  let exit: FinishedExit;
  try {
    const first = await session.receive();
    if (first.type === 'abort') return { status: 'aborted', reason: first.reason };
    if (first.type !== 'task') throw new UserzError('protocol_unexpected', 'Expected a task first');
    if (first.protocolVersion !== PROTOCOL_VERSION) {
      throw new UserzError('protocol_version_mismatch', `Runner speaks protocol ${PROTOCOL_VERSION}, task is ${first.protocolVersion}`);
    }
    exit = await runTurns(session, await openWorkspace(opts.workspace), first);
  } catch (e) {
    if (e instanceof Aborted) return { status: 'aborted', reason: e.reason };
    exit = isUserzError(e)
      ? { status: 'failed', code: e.code, message: e.message }
      : { status: 'failed', code: 'runner_crashed', message: e instanceof Error ? e.message.slice(0, 1000) : 'unknown error' };
  }
  const final: RunnerMessage = exit.status === 'done' ? { type: 'done', summary: exit.summary } : { type: 'failed', code: exit.code, message: exit.message };
  // The channel may already be gone (host closed it); the exit value still tells the caller.
  await session.send(final).catch(() => undefined);
  return exit;
}
