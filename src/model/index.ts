/** Public face of the model port: types, the provider clients, and the scripted test double. */
export type { ModelClient, ModelMessage, ModelRequest, ModelResponse, ModelUsage, ToolSpec } from './interface.js';
export { ScriptedModelClient, type ScriptStep } from './scripted.js';
export { OpenAIModelClient } from './openai.js';
export { AnthropicModelClient } from './anthropic.js';
export { createModelClient } from './create.js';
export { MODEL_PROVIDERS, type ModelProvider } from './create.js';
export { probeModelKey } from './probe.js';
