import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ModelClient, ModelMessage, ModelRequest, ModelResponse, ToolCall } from './interface.js';
import { callWithDeadline, DEFAULT_TIMEOUT_MS, type ProviderClientOptions } from './provider-call.js';
import { badResponse, parseToolArguments } from './provider-error.js';

const PROVIDER = 'openai';
const SDK_ERRORS = { APIConnectionTimeoutError, APIError, APIUserAbortError };

function toOpenAiMessage(m: ModelMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'user':
      return { role: 'user', content: m.content };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant':
      return m.toolCalls?.length
        ? {
            role: 'assistant',
            content: m.content === '' ? null : m.content,
            tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.arguments) } })),
          }
        : { role: 'assistant', content: m.content };
  }
}

export function toOpenAiRequest(model: string, request: ModelRequest): ChatCompletionCreateParamsNonStreaming {
  const messages: ChatCompletionMessageParam[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  messages.push(...request.messages.map(toOpenAiMessage));
  const body: ChatCompletionCreateParamsNonStreaming = { model: request.model ?? model, messages };
  if (request.tools?.length) {
    body.tools = request.tools.map((t): ChatCompletionTool => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
  if (request.maxOutputTokens) body.max_completion_tokens = request.maxOutputTokens;
  if (request.responseSchema) {
    // Strict mode: the answer is guaranteed to match, so the schema must follow OpenAI's
    // strict subset (every property required, additionalProperties false).
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: request.responseSchema.name, schema: request.responseSchema.schema, strict: true },
    };
  }
  return body;
}

const STOP_REASONS: Record<string, ModelResponse['stopReason']> = {
  stop: 'end',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  length: 'max_tokens',
  content_filter: 'refusal',
};

export function fromOpenAiResponse(completion: ChatCompletion): ModelResponse {
  const choice = completion.choices?.[0];
  if (!choice?.message) throw badResponse(PROVIDER, 'no choice in the answer');
  const toolCalls: ToolCall[] = (choice.message.tool_calls ?? []).map((c) => {
    if (c.type !== 'function') throw badResponse(PROVIDER, 'unsupported tool call type');
    return { id: c.id, name: c.function.name, arguments: parseToolArguments(PROVIDER, c.function.arguments) };
  });
  const refused = typeof choice.message.refusal === 'string' && choice.message.refusal !== '';
  return {
    content: choice.message.content ?? (refused ? choice.message.refusal! : ''),
    toolCalls,
    usage: {
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
      ...(completion.usage?.prompt_tokens_details?.cached_tokens ? { cachedInputTokens: completion.usage.prompt_tokens_details.cached_tokens } : {}),
    },
    stopReason: refused ? 'refusal' : (STOP_REASONS[choice.finish_reason] ?? 'end'),
  };
}

/** OpenAI chat completions with function tools; JSON-schema structured output. */
export class OpenAIModelClient implements ModelClient {
  readonly provider = PROVIDER;
  readonly model: string;
  // The key is held by the SDK instance only; this class keeps no copy of it.
  readonly #sdk: OpenAI;
  readonly #timeoutMs: number;

  constructor(opts: ProviderClientOptions) {
    this.model = opts.model;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#sdk = new OpenAI({
      apiKey: opts.apiKey,
      baseURL: opts.baseUrl ?? null,
      // The SDK's own per-attempt timeout is only a backstop behind our deadline.
      timeout: this.#timeoutMs + 1000,
      maxRetries: opts.maxRetries ?? 2,
    });
  }

  async complete(request: ModelRequest, opts: { signal?: AbortSignal } = {}): Promise<ModelResponse> {
    const completion = await callWithDeadline(PROVIDER, { timeoutMs: this.#timeoutMs, signal: opts.signal, sdk: SDK_ERRORS }, (signal) =>
      this.#sdk.chat.completions.create(toOpenAiRequest(this.model, request), { signal }),
    );
    return fromOpenAiResponse(completion);
  }

  toJSON(): Record<string, string> {
    return { provider: this.provider, model: this.model };
  }
}
