import type { Readable, Writable } from 'node:stream';
import { isUserzError, UserzError, type UserzErrorCode } from '../errors.js';
import type { ModelClient, ModelRequest, ModelResponse } from '../model/index.js';
import {
  LineReader,
  MAX_LINE_BYTES,
  parseLine,
  PROTOCOL_VERSION,
  RunnerMessage,
  TOOL_NAMES,
  writeLine,
  type HostMessage,
  type HostToolName,
  type TaskMessage,
  type ToolName,
} from '../runner/index.js';
import {
  DEFAULT_PRICES,
  estimateInputTokens,
  exceededBudget,
  costOf,
  outputAllowance,
  priceFor,
  type BudgetKind,
  type ModelPrice,
  type RunBudget,
  type Spent,
} from './budget.js';
import type { TranscriptEntry, TranscriptEvent } from './transcript.js';

/** What the pipeline asks the agent to do; `prompt` already holds the wrapped report. */
export interface AgentTask {
  system: string;
  prompt: string;
  tools?: ToolName[];
  /** Cap on one completion's output; the budget may lower it further. */
  maxOutputTokensPerCall?: number;
}

export interface ServeRunnerOptions {
  fromRunner: Readable;
  toRunner: Writable;
  client: ModelClient;
  task: AgentTask;
  budget: RunBudget;
  prices?: Readonly<Record<string, ModelPrice>>;
  signal?: AbortSignal;
  maxLineBytes?: number;
  /** Bound on everything the runner may make the host keep (transcript), in bytes. */
  maxTranscriptBytes?: number;
  /** End the runner's input when the run ends (default true). */
  endRunnerInput?: boolean;
  /**
   * Answers the host tools the task offers (run_checks, declare_reproducing_test). The
   * output goes back to the model as the tool's result; absent: every host tool is refused.
   */
  hostTools?: HostToolHandler;
}

export type HostToolHandler = (name: HostToolName, args: Record<string, unknown>) => Promise<{ ok: boolean; output: string }>;

export type RunnerOutcomeKind =
  | { kind: 'completed'; summary: string }
  | { kind: 'budget_exceeded'; budget: BudgetKind }
  | { kind: 'protocol_error'; code: string; message: string }
  | { kind: 'model_error'; code: UserzErrorCode; retryable: boolean }
  | { kind: 'runner_failed'; code: string; message: string }
  | { kind: 'aborted'; reason: string };

export type RunnerOutcome = RunnerOutcomeKind & {
  usage: { turns: number; inputTokens: number; outputTokens: number };
  costUsd: number;
  transcript: TranscriptEntry[];
};

export const DEFAULT_MAX_OUTPUT_TOKENS_PER_CALL = 8192;
export const DEFAULT_MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024;

/** Thrown inside the broker to end the run with a given outcome. */
class RunEnd extends Error {
  constructor(readonly outcome: RunnerOutcomeKind) {
    super(outcome.kind);
  }
}

class Broker {
  readonly transcript: TranscriptEntry[] = [];
  readonly spent: Spent = { turns: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  /** True once the runner said done/failed or closed its output: it needs no abort then. */
  runnerFinished = false;
  private transcriptBytes = 0;
  private readonly seenIds = new Set<string>();
  private readonly reader: LineReader;
  private readonly price: ModelPrice;
  private readonly maxLineBytes: number;
  private readonly controller = new AbortController();

  constructor(private readonly opts: ServeRunnerOptions) {
    this.maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
    this.reader = new LineReader(opts.fromRunner, this.maxLineBytes);
    this.price = priceFor(opts.client.model, opts.prices ?? DEFAULT_PRICES);
  }

  record(event: TranscriptEvent): void {
    const entry = { at: new Date().toISOString(), ...event } as TranscriptEntry;
    this.transcriptBytes += Buffer.byteLength(JSON.stringify(entry));
    this.transcript.push(entry);
    if (this.transcriptBytes > (this.opts.maxTranscriptBytes ?? DEFAULT_MAX_TRANSCRIPT_BYTES)) {
      throw new RunEnd({ kind: 'protocol_error', code: 'protocol_transcript_too_large', message: 'The runner produced too much output' });
    }
  }

  send(message: HostMessage): Promise<void> {
    return writeLine(this.opts.toRunner, message, this.maxLineBytes);
  }

  /** Resolves when the caller's signal fires; the run then ends as `aborted`. */
  private abortedBy(signal: AbortSignal | undefined): Promise<never> {
    return new Promise((_, reject) => {
      if (!signal) return;
      const fire = (): void => {
        this.controller.abort();
        reject(new RunEnd({ kind: 'aborted', reason: 'cancelled by the host' }));
      };
      if (signal.aborted) fire();
      else signal.addEventListener('abort', fire, { once: true });
    });
  }

  async run(): Promise<RunnerOutcomeKind> {
    const aborted = this.abortedBy(this.opts.signal);
    const conversation = this.converse();
    // Whichever loses the race must not surface later as an unhandled rejection.
    aborted.catch(() => undefined);
    conversation.catch(() => undefined);
    try {
      return await Promise.race([conversation, aborted]);
    } catch (e) {
      if (e instanceof RunEnd) return e.outcome;
      if (isUserzError(e) && e.code.startsWith('protocol_')) return { kind: 'protocol_error', code: e.code, message: e.message };
      // A broken pipe or a stream error: the runner is gone.
      return { kind: 'runner_failed', code: 'runner_channel_error', message: e instanceof Error ? e.message.slice(0, 500) : 'channel error' };
    } finally {
      this.controller.abort();
    }
  }

  private async converse(): Promise<RunnerOutcomeKind> {
    const { task } = this.opts;
    const taskMessage: TaskMessage = {
      type: 'task',
      protocolVersion: PROTOCOL_VERSION,
      system: task.system,
      prompt: task.prompt,
      tools: task.tools ?? [...TOOL_NAMES],
      maxTurns: this.opts.budget.maxTurns,
      maxOutputTokens: task.maxOutputTokensPerCall ?? DEFAULT_MAX_OUTPUT_TOKENS_PER_CALL,
    };
    this.record({ kind: 'task', task: taskMessage });
    await this.send(taskMessage);
    for (;;) {
      const line = await this.reader.next();
      if (this.controller.signal.aborted) throw new RunEnd({ kind: 'aborted', reason: 'cancelled by the host' });
      if (line === null) {
        this.runnerFinished = true;
        return { kind: 'runner_failed', code: 'runner_exited', message: 'The runner closed its output without finishing' };
      }
      const message = parseLine(line, RunnerMessage);
      this.runnerFinished = message.type === 'done' || message.type === 'failed';
      switch (message.type) {
        case 'model_request':
          await this.answer(message.id, message.request);
          break;
        case 'host_tool_request':
          await this.answerHostTool(message.id, message.name, message.arguments);
          break;
        case 'tool_result':
          this.record({ kind: 'tool_result', callId: message.callId, name: message.name, ok: message.ok, output: message.output });
          break;
        case 'done':
          this.record({ kind: 'runner_done', summary: message.summary });
          return { kind: 'completed', summary: message.summary };
        case 'failed':
          this.record({ kind: 'runner_failed', code: message.code, message: message.message });
          // The runner counts the same turn budget we gave it; running out is a budget end either way.
          if (message.code === 'runner_max_turns') return { kind: 'budget_exceeded', budget: 'turns' };
          return { kind: 'runner_failed', code: message.code, message: message.message };
      }
    }
  }

  /**
   * The host decides what reaches the model: its own system prompt and model, the
   * runner's messages and tool specs, and an output cap from the remaining budget.
   */
  private shapeRequest(fromRunner: ModelRequest): ModelRequest {
    const request: ModelRequest = { system: this.opts.task.system, messages: fromRunner.messages };
    if (fromRunner.tools?.length) request.tools = fromRunner.tools;
    return request;
  }

  private loggedMessages: string[] = [];
  private loggedTools = '';

  /** Logs what is new in this request: a conversation only grows, so earlier turns are already in the log. */
  private recordRequest(id: string, request: ModelRequest): void {
    const serialised = request.messages.map((m) => JSON.stringify(m));
    const appended = this.loggedMessages.length <= serialised.length && this.loggedMessages.every((m, i) => m === serialised[i]);
    const fromMessage = appended ? this.loggedMessages.length : 0;
    const tools = JSON.stringify(request.tools ?? []);
    this.record({
      kind: 'model_request',
      id,
      fromMessage,
      messages: request.messages.slice(fromMessage),
      maxOutputTokens: request.maxOutputTokens,
      ...(tools !== this.loggedTools ? { tools: request.tools ?? [] } : {}),
    });
    this.loggedMessages = serialised;
    this.loggedTools = tools;
  }

  private async answerHostTool(id: string, name: HostToolName, args: Record<string, unknown>): Promise<void> {
    if (this.seenIds.has(id)) throw new UserzError('protocol_duplicate_id', 'The runner reused a request id');
    this.seenIds.add(id);
    const offered = (this.opts.task.tools ?? []).includes(name);
    const handler = this.opts.hostTools;
    const result = offered && handler ? await handler(name, args) : { ok: false, output: `the host does not offer "${name}" in this run` };
    if (this.controller.signal.aborted) throw new RunEnd({ kind: 'aborted', reason: 'cancelled by the host' });
    this.record({ kind: 'host_tool', id, name, ok: result.ok, output: result.output });
    await this.send({ type: 'host_tool_result', id, ok: result.ok, output: result.output });
  }

  private async answer(id: string, fromRunner: ModelRequest): Promise<void> {
    if (this.seenIds.has(id)) throw new UserzError('protocol_duplicate_id', 'The runner reused a request id');
    this.seenIds.add(id);
    const request = this.shapeRequest(fromRunner);
    const estimate = estimateInputTokens(request);
    const exceeded = exceededBudget(this.spent, this.opts.budget, estimate, this.price);
    if (exceeded) throw new RunEnd({ kind: 'budget_exceeded', budget: exceeded });
    const perCall = Math.min(fromRunner.maxOutputTokens ?? Infinity, this.opts.task.maxOutputTokensPerCall ?? DEFAULT_MAX_OUTPUT_TOKENS_PER_CALL);
    request.maxOutputTokens = outputAllowance(this.spent, this.opts.budget, estimate, this.price, perCall);
    this.recordRequest(id, request);
    this.spent.turns += 1;
    let response: ModelResponse;
    try {
      response = await this.opts.client.complete(request, { signal: this.controller.signal });
    } catch (e) {
      if (this.controller.signal.aborted) throw new RunEnd({ kind: 'aborted', reason: 'cancelled by the host' });
      const code = isUserzError(e) ? e.code : 'model_failed';
      const retryable = isUserzError(e) ? e.retryable : false;
      this.record({ kind: 'model_error', id, code, retryable });
      throw new RunEnd({ kind: 'model_error', code, retryable });
    }
    const costUsd = costOf(response.usage, this.price);
    this.spent.inputTokens += response.usage.inputTokens;
    this.spent.outputTokens += response.usage.outputTokens;
    this.spent.costUsd += costUsd;
    this.record({ kind: 'model_response', id, response, costUsd });
    await this.send({ type: 'model_response', id, response });
  }
}

/**
 * Host side of one agent run: sends the task, serves the runner's model calls through
 * `client` (which alone holds the key) within `budget`, records the transcript, and ends
 * with one outcome. Whenever the run ends before the runner finished, the runner is
 * told to stop with an `abort` line.
 */
export async function serveRunner(opts: ServeRunnerOptions): Promise<RunnerOutcome> {
  const broker = new Broker(opts);
  const outcome = await broker.run();
  if (!broker.runnerFinished) {
    const reason = outcome.kind === 'budget_exceeded' ? `budget_exceeded:${outcome.budget}` : outcome.kind;
    // The transcript is over its cap only in that error; log the abort anyway.
    broker.transcript.push({ at: new Date().toISOString(), kind: 'abort', reason });
    if (outcome.kind === 'protocol_error') {
      broker.transcript.push({ at: new Date().toISOString(), kind: 'protocol_error', code: outcome.code, message: outcome.message });
    }
    await broker.send({ type: 'abort', reason }).catch(() => undefined);
  }
  if (opts.endRunnerInput ?? true) opts.toRunner.end();
  const { turns, inputTokens, outputTokens, costUsd } = broker.spent;
  return { ...outcome, usage: { turns, inputTokens, outputTokens }, costUsd, transcript: broker.transcript };
}
