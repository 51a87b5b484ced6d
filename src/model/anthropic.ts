import Anthropic, { APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { ContentBlockParam, Message, MessageCreateParamsNonStreaming, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages/messages';
import type { ModelClient, ModelMessage, ModelRequest, ModelResponse, ToolCall } from './interface.js';
import { callWithDeadline, DEFAULT_TIMEOUT_MS, type ProviderClientOptions } from './provider-call.js';
import { badResponse } from './provider-error.js';

const PROVIDER = 'anthropic';
const SDK_ERRORS = { APIConnectionTimeoutError, APIError, APIUserAbortError };
/** The messages API requires max_tokens; this is used when the request sets none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

function toBlocks(m: ModelMessage): ContentBlockParam[] {
  switch (m.role) {
    case 'user':
      return [{ type: 'text', text: m.content }];
    case 'tool':
      return [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content }];
    case 'assistant':
      return [
        ...(m.content ? [{ type: 'text' as const, text: m.content }] : []),
        ...(m.toolCalls ?? []).map((c) => ({ type: 'tool_use' as const, id: c.id, name: c.name, input: c.arguments })),
      ];
  }
}

/**
 * Anthropic wants alternating user/assistant turns, with tool results inside a user turn.
 * Consecutive messages of the same side are merged; a lone user text stays a plain string.
 */
function toAnthropicMessages(messages: ModelMessage[]): MessageParam[] {
  const out: Array<{ role: 'user' | 'assistant'; blocks: ContentBlockParam[] }> = [];
  for (const m of messages) {
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    const last = out[out.length - 1];
    if (last && last.role === role) last.blocks.push(...toBlocks(m));
    else out.push({ role, blocks: toBlocks(m) });
  }
  return out.map(({ role, blocks }) => ({
    role,
    content: blocks.length === 1 && blocks[0]!.type === 'text' ? blocks[0]!.text : blocks,
  }));
}

/**
 * Structured output uses a forced tool: the schema becomes the input schema of a tool the
 * model must call, and its input is the answer. This works on every tool-capable model.
 */
export function toAnthropicRequest(model: string, request: ModelRequest): MessageCreateParamsNonStreaming {
  const body: MessageCreateParamsNonStreaming = {
    model: request.model ?? model,
    max_tokens: request.maxOutputTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: toAnthropicMessages(request.messages),
  };
  if (request.system) body.system = request.system;
  const tools: Tool[] = (request.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: t.parameters as Tool['input_schema'],
  }));
  if (request.responseSchema) {
    tools.push({
      name: request.responseSchema.name,
      description: 'Give your answer by calling this tool; its input is the answer.',
      input_schema: request.responseSchema.schema as Tool['input_schema'],
    });
    body.tool_choice = { type: 'tool', name: request.responseSchema.name };
  }
  if (tools.length) body.tools = tools;
  return body;
}

const STOP_REASONS: Record<string, ModelResponse['stopReason']> = {
  end_turn: 'end',
  stop_sequence: 'end',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  model_context_window_exceeded: 'max_tokens',
  refusal: 'refusal',
};

export function fromAnthropicResponse(message: Message, responseSchemaName?: string): ModelResponse {
  if (!Array.isArray(message.content)) throw badResponse(PROVIDER, 'no content in the answer');
  const usage = {
    inputTokens: (message.usage?.input_tokens ?? 0) + (message.usage?.cache_creation_input_tokens ?? 0) + (message.usage?.cache_read_input_tokens ?? 0),
    outputTokens: message.usage?.output_tokens ?? 0,
    ...(message.usage?.cache_read_input_tokens ? { cachedInputTokens: message.usage.cache_read_input_tokens } : {}),
  };
  if (responseSchemaName) {
    const answer = message.content.find((b) => b.type === 'tool_use' && b.name === responseSchemaName);
    if (!answer || answer.type !== 'tool_use') throw badResponse(PROVIDER, 'the structured answer is missing');
    return { content: JSON.stringify(answer.input), toolCalls: [], usage, stopReason: 'end' };
  }
  const text = message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
  const toolCalls: ToolCall[] = message.content.flatMap((b) => {
    if (b.type !== 'tool_use') return [];
    if (b.input === null || typeof b.input !== 'object' || Array.isArray(b.input)) throw badResponse(PROVIDER, 'tool input is not an object');
    return [{ id: b.id, name: b.name, arguments: b.input as Record<string, unknown> }];
  });
  return { content: text, toolCalls, usage, stopReason: STOP_REASONS[message.stop_reason ?? ''] ?? 'end' };
}

/** Anthropic messages API with tools; structured output through a forced tool. */
export class AnthropicModelClient implements ModelClient {
  readonly provider = PROVIDER;
  readonly model: string;
  readonly #sdk: Anthropic;
  readonly #timeoutMs: number;

  constructor(opts: ProviderClientOptions) {
    this.model = opts.model;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#sdk = new Anthropic({
      apiKey: opts.apiKey,
      authToken: null,
      baseURL: opts.baseUrl ?? null,
      // The SDK's own per-attempt timeout is only a backstop behind our deadline.
      timeout: this.#timeoutMs + 1000,
      maxRetries: opts.maxRetries ?? 2,
    });
  }

  async complete(request: ModelRequest, opts: { signal?: AbortSignal } = {}): Promise<ModelResponse> {
    const message = await callWithDeadline(PROVIDER, { timeoutMs: this.#timeoutMs, signal: opts.signal, sdk: SDK_ERRORS }, (signal) =>
      this.#sdk.messages.create(toAnthropicRequest(this.model, request), { signal }),
    );
    return fromAnthropicResponse(message, request.responseSchema?.name);
  }

  toJSON(): Record<string, string> {
    return { provider: this.provider, model: this.model };
  }
}
