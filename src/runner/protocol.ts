import { z } from 'zod';

/**
 * The JSON-lines protocol between the agent runner (inside the sandbox) and the broker
 * (host). Both sides parse every line through these schemas; nothing else crosses stdio.
 * Bump PROTOCOL_VERSION on any incompatible change: the runner refuses a task whose
 * version differs, so a stale sandbox image fails loudly instead of half-working.
 */
export const PROTOCOL_VERSION = 2;

/**
 * Readiness, outside the protocol: a runner started ahead of its task (a pooled sandbox)
 * with this variable set to 1 writes RUNNER_READY_LINE to stderr once loaded, before it
 * reads stdin; the host hands the sandbox out only then. stdout stays protocol-only.
 */
export const RUNNER_READY_ENV = 'RUNNER_SIGNAL_READY';
export const RUNNER_READY_LINE = 'userz-runner: ready\n';

/** Upper bound of one line (bytes, newline excluded), enforced by both readers and writers. */
export const MAX_LINE_BYTES = 1024 * 1024;

export const TOOL_NAMES = ['read_file', 'write_file', 'edit_file', 'search', 'list_files', 'git'] as const;
/**
 * Tools the runner does not run: it forwards the call to the host (host_tool_request) and
 * hands the model the host's answer. The agent chooses only when to call them; what runs
 * (the repository's own check commands) is the host's, from the base commit's .userz.yml.
 */
export const HOST_TOOL_NAMES = ['run_checks', 'declare_reproducing_test'] as const;
export type HostToolName = (typeof HOST_TOOL_NAMES)[number];
export const ToolName = z.enum([...TOOL_NAMES, ...HOST_TOOL_NAMES]);
export type ToolName = z.infer<typeof ToolName>;

const JsonObject = z.record(z.string(), z.unknown());

export const ToolCallMessage = z.object({ id: z.string().max(256), name: z.string().max(128), arguments: JsonObject });

export const ModelMessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({ role: z.literal('assistant'), content: z.string(), toolCalls: z.array(ToolCallMessage).optional() }),
  z.object({ role: z.literal('tool'), toolCallId: z.string().max(256), name: z.string().max(128), content: z.string() }),
]);

export const ToolSpecSchema = z.object({ name: z.string().max(128), description: z.string(), parameters: JsonObject });

export const ModelRequestSchema = z.object({
  model: z.string().optional(),
  system: z.string().optional(),
  messages: z.array(ModelMessageSchema),
  tools: z.array(ToolSpecSchema).optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  responseSchema: z.object({ name: z.string(), schema: JsonObject }).optional(),
});

export const ModelResponseSchema = z.object({
  content: z.string(),
  toolCalls: z.array(ToolCallMessage),
  usage: z.object({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative() }),
  stopReason: z.enum(['end', 'tool_use', 'max_tokens', 'refusal']),
});

/**
 * The runner's own view of a model exchange, as it crosses stdio. The runner imports nothing
 * from src/model/: these shapes are the protocol; the broker hands them to a ModelClient,
 * and the compiler checks there that they fit the model port.
 */
export type ToolCall = z.infer<typeof ToolCallMessage>;
export type ToolSpec = z.infer<typeof ToolSpecSchema>;
export type ModelMessage = z.infer<typeof ModelMessageSchema>;
export type ModelRequest = z.infer<typeof ModelRequestSchema>;
export type ModelResponse = z.infer<typeof ModelResponseSchema>;

/** What the runner is asked to do. Untrusted report text arrives already wrapped in `prompt`. */
export const TaskMessage = z.object({
  type: z.literal('task'),
  protocolVersion: z.number().int(),
  system: z.string(),
  prompt: z.string(),
  tools: z.array(ToolName),
  maxTurns: z.number().int().positive().max(1000),
  maxOutputTokens: z.number().int().positive().optional(),
});
export type TaskMessage = z.infer<typeof TaskMessage>;

export const HostMessage = z.discriminatedUnion('type', [
  TaskMessage,
  z.object({ type: z.literal('model_response'), id: z.string().max(64), response: ModelResponseSchema }),
  z.object({ type: z.literal('host_tool_result'), id: z.string().max(64), ok: z.boolean(), output: z.string() }),
  z.object({ type: z.literal('abort'), reason: z.string().max(1000) }),
]);
export type HostMessage = z.infer<typeof HostMessage>;

export const RunnerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('model_request'), id: z.string().max(64), request: ModelRequestSchema }),
  z.object({ type: z.literal('host_tool_request'), id: z.string().max(64), name: z.enum(HOST_TOOL_NAMES), arguments: JsonObject }),
  z.object({ type: z.literal('tool_result'), callId: z.string().max(256), name: z.string().max(128), ok: z.boolean(), output: z.string() }),
  z.object({ type: z.literal('done'), summary: z.string() }),
  z.object({ type: z.literal('failed'), code: z.string().max(128), message: z.string().max(4000) }),
]);
export type RunnerMessage = z.infer<typeof RunnerMessage>;
