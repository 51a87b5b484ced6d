/**
 * The ModelClient port. The broker (agent runs) and the classifier (triage) both talk to
 * models only through this interface; the composition root picks OpenAI, Anthropic or the
 * scripted client used in tests. API keys live inside implementations, in the host process.
 */

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the tool's arguments object. */
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed JSON arguments (implementations parse provider strings). */
  arguments: Record<string, unknown>;
}

export type ModelMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string };

export interface ModelRequest {
  model?: string;
  system?: string;
  messages: ModelMessage[];
  tools?: ToolSpec[];
  maxOutputTokens?: number;
  /** Ask for a JSON answer matching this schema (structured output). */
  responseSchema?: { name: string; schema: Record<string, unknown> };
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, those the provider read from its prompt cache (cheaper); absent when none. */
  cachedInputTokens?: number;
}

export interface ModelResponse {
  content: string;
  toolCalls: ToolCall[];
  usage: ModelUsage;
  stopReason: 'end' | 'tool_use' | 'max_tokens' | 'refusal';
}

export interface ModelClient {
  /** 'openai' | 'anthropic' | 'scripted' … */
  readonly provider: string;
  readonly model: string;
  complete(request: ModelRequest, opts?: { signal?: AbortSignal }): Promise<ModelResponse>;
}
