import type { ModelMessage, ModelResponse, ToolSpec } from '../model/index.js';
import type { TaskMessage } from '../runner/index.js';

/**
 * The run log: everything the runner and the model said, in order. It is written to the
 * blob store as JSON lines. It never holds a key: keys live only inside the ModelClient.
 */
export type TranscriptEntry = { at: string } & (
  | { kind: 'task'; task: TaskMessage }
  | {
      kind: 'model_request';
      id: string;
      /** Index in the conversation of the first message below; earlier ones are in previous entries. */
      fromMessage: number;
      /** Only the messages added since the previous request, so the log grows linearly. */
      messages: ModelMessage[];
      maxOutputTokens?: number;
      /** Present on the first request and whenever the tool list changes. */
      tools?: ToolSpec[];
    }
  | { kind: 'model_response'; id: string; response: ModelResponse; costUsd: number }
  | { kind: 'model_error'; id: string; code: string; retryable: boolean }
  | { kind: 'tool_result'; callId: string; name: string; ok: boolean; output: string }
  | { kind: 'host_tool'; id: string; name: string; ok: boolean; output: string }
  | { kind: 'runner_done'; summary: string }
  | { kind: 'runner_failed'; code: string; message: string }
  | { kind: 'protocol_error'; code: string; message: string }
  | { kind: 'abort'; reason: string }
);

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type TranscriptEvent = DistributiveOmit<TranscriptEntry, 'at'>;

export function transcriptToJsonl(entries: readonly TranscriptEntry[]): string {
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
}
