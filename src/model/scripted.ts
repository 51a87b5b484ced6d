import { UserzError } from '../errors.js';
import type { ModelClient, ModelRequest, ModelResponse } from './interface.js';

/**
 * A ModelClient that answers from a script: each call takes the next step. A step is a
 * fixed response or a function of the request (to assert on what the model was shown).
 * Used by tests and by `userz triage explain` when no provider is configured is NOT the
 * case: it is a test double, chosen only by tests and the benchmark harness.
 */
export type ScriptStep = Partial<ModelResponse> | ((request: ModelRequest) => Partial<ModelResponse> | Promise<Partial<ModelResponse>>);

export class ScriptedModelClient implements ModelClient {
  readonly provider = 'scripted';
  readonly model: string;
  readonly requests: ModelRequest[] = [];
  private readonly steps: ScriptStep[];

  constructor(steps: ScriptStep[], model = 'scripted-1') {
    this.steps = [...steps];
    this.model = model;
  }

  get remaining(): number {
    return this.steps.length;
  }

  async complete(request: ModelRequest, opts: { signal?: AbortSignal } = {}): Promise<ModelResponse> {
    if (opts.signal?.aborted) throw new UserzError('model_aborted', 'Model call was aborted', { retryable: true });
    this.requests.push(structuredClone(request));
    const step = this.steps.shift();
    if (!step) throw new UserzError('model_script_exhausted', 'Scripted model has no more steps');
    const partial = typeof step === 'function' ? await step(request) : step;
    const toolCalls = partial.toolCalls ?? [];
    return {
      content: partial.content ?? '',
      toolCalls,
      usage: partial.usage ?? { inputTokens: 10, outputTokens: 10 },
      stopReason: partial.stopReason ?? (toolCalls.length > 0 ? 'tool_use' : 'end'),
    };
  }
}
