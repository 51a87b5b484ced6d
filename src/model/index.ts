/** Public face of the model port: types, the provider clients, and the scripted test double. */
export type { ModelClient, ModelMessage, ModelRequest, ModelResponse, ModelUsage, ToolCall, ToolSpec } from './interface.js';
export { ScriptedModelClient, type ScriptStep } from './scripted.js';
export { OpenAIModelClient } from './openai.js';
export type { ProviderClientOptions } from './provider-call.js';
export { AnthropicModelClient, ANTHROPIC_DEFAULT_MAX_TOKENS } from './anthropic.js';
export { createModelClient, MODEL_PROVIDERS, type ModelClientConfig, type ModelProvider } from './create.js';
