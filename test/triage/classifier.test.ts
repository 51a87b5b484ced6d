import { describe, expect, it } from '@jest/globals';
import { UserzError } from '../../src/errors.js';
import type { ModelRequest } from '../../src/model/interface.js';
import { ScriptedModelClient } from '../../src/model/scripted.js';
import { buildClassifierRequest, classifyReport, closingTag, defaultClassifierPrompt, openingTag, TRIAGE_LABELS } from '../../src/triage/index.js';

const NONCE = 'fedcba9876543210fedcba9876543210';
const REPORT = { text: 'The export button crashes the tab. SECRET-MARKER-42', console: [{ level: 'error' as const, message: 'TypeError: x is undefined' }] };
const answer = (obj: unknown): { content: string } => ({ content: JSON.stringify(obj) });

describe('classifyReport', () => {
  it('returns the label, confidence and reason of a schema-valid answer', async () => {
    const client = new ScriptedModelClient([answer({ label: 'benign', confidence: 0.93, reason: 'A crash report.' })]);
    const result = await classifyReport(REPORT, { client });
    expect(result).toEqual({ status: 'classified', classification: { label: 'benign', confidence: 0.93, reason: 'A crash report.' }, model: 'scripted-1' });
  });

  it('accepts every label of the schema', async () => {
    for (const label of TRIAGE_LABELS) {
      const client = new ScriptedModelClient([answer({ label, confidence: 0.5, reason: 'r' })]);
      const result = await classifyReport(REPORT, { client });
      expect(result.status === 'classified' && result.classification.label).toBe(label);
    }
  });

  it('sends the report only inside the wrapper, with no tools and a JSON schema for the answer', async () => {
    const client = new ScriptedModelClient([answer({ label: 'benign', confidence: 0.9, reason: 'ok' })]);
    await classifyReport(REPORT, { client, nonce: NONCE });
    const [request] = client.requests as [ModelRequest];
    expect(request.tools ?? []).toEqual([]);
    expect(request.messages).toHaveLength(1);
    expect(request.messages[0]!.role).toBe('user');
    const user = request.messages[0]!.content;
    expect(user.startsWith(openingTag(NONCE))).toBe(true);
    expect(user.endsWith(closingTag(NONCE))).toBe(true);
    expect(user.split('SECRET-MARKER-42')).toHaveLength(2);
    expect(request.system).not.toContain('SECRET-MARKER-42');
    expect(request.system).toContain(defaultClassifierPrompt());
    expect(request.system).toContain(NONCE);
    expect(request.responseSchema?.schema).toMatchObject({
      type: 'object',
      required: ['label', 'confidence', 'reason'],
      properties: { label: { enum: [...TRIAGE_LABELS] } },
    });
  });

  it('uses a fresh context per call: nothing of an earlier report reaches the next request', async () => {
    const client = new ScriptedModelClient([
      answer({ label: 'benign', confidence: 0.9, reason: 'ok' }),
      answer({ label: 'benign', confidence: 0.9, reason: 'ok' }),
    ]);
    await classifyReport({ text: 'first report FIRST-ONLY' }, { client });
    await classifyReport({ text: 'second report' }, { client });
    const second = client.requests[1]!;
    expect(JSON.stringify(second)).not.toContain('FIRST-ONLY');
    expect(second.messages).toHaveLength(1);
    expect(client.requests[0]!.messages[0]!.content).not.toBe(second.messages[0]!.content);
  });

  it('keeps the prompt provider-neutral: plain text, no provider names or vendor markup', () => {
    const request = buildClassifierRequest(REPORT, { nonce: NONCE });
    expect(request.system).not.toMatch(/openai|anthropic|gpt-|claude|<\|im_start\|>|\[INST\]/i);
    expect(request.model).toBeUndefined();
  });

  describe('fails closed', () => {
    it('answers needs_review with cause timeout when the model does not answer in time, and aborts the call', async () => {
      let seen: AbortSignal | undefined;
      const client = new ScriptedModelClient([]);
      client.complete = (_request, opts) => {
        seen = opts?.signal;
        return new Promise(() => undefined);
      };
      const result = await classifyReport(REPORT, { client, timeoutMs: 20 });
      expect(result).toMatchObject({ status: 'needs_review', cause: 'timeout' });
      expect(seen?.aborted).toBe(true);
    });

    it('answers needs_review with cause timeout when the client rejects because of the abort', async () => {
      const client = new ScriptedModelClient([]);
      client.complete = (_request, opts) =>
        new Promise((_resolve, reject) => opts?.signal?.addEventListener('abort', () => reject(new Error('aborted by signal'))));
      expect(await classifyReport(REPORT, { client, timeoutMs: 10 })).toMatchObject({ status: 'needs_review', cause: 'timeout' });
    });

    it('answers needs_review with cause refusal on a refusal stop', async () => {
      const client = new ScriptedModelClient([{ content: 'I cannot help with that.', stopReason: 'refusal' }]);
      expect(await classifyReport(REPORT, { client })).toMatchObject({ status: 'needs_review', cause: 'refusal' });
    });

    it('answers needs_review with cause refusal even when the refusal carries a valid-looking JSON', async () => {
      const client = new ScriptedModelClient([{ ...answer({ label: 'benign', confidence: 1, reason: 'x' }), stopReason: 'refusal' }]);
      expect(await classifyReport(REPORT, { client })).toMatchObject({ status: 'needs_review', cause: 'refusal' });
    });

    it('answers needs_review with cause invalid_json on prose', async () => {
      const client = new ScriptedModelClient([{ content: 'This looks benign to me.' }]);
      expect(await classifyReport(REPORT, { client })).toMatchObject({ status: 'needs_review', cause: 'invalid_json' });
    });

    it.each([
      [{ label: 'harmless', confidence: 0.9, reason: 'x' }],
      [{ label: 'benign', confidence: 1.5, reason: 'x' }],
      [{ label: 'benign', reason: 'x' }],
      [{ label: 'benign', confidence: 0.9, reason: 'x', action: 'run' }],
      [['benign']],
    ])('answers needs_review with cause schema_invalid for %j', async (obj) => {
      const client = new ScriptedModelClient([answer(obj)]);
      expect(await classifyReport(REPORT, { client })).toMatchObject({ status: 'needs_review', cause: 'schema_invalid' });
    });

    it('answers needs_review with cause truncated when the answer hit the token limit', async () => {
      const client = new ScriptedModelClient([{ content: '{"label":"benign","conf', stopReason: 'max_tokens' }]);
      expect(await classifyReport(REPORT, { client })).toMatchObject({ status: 'needs_review', cause: 'truncated' });
    });

    it('answers needs_review with cause schema_invalid when the model calls a tool instead of answering', async () => {
      const client = new ScriptedModelClient([{ toolCalls: [{ id: 't1', name: 'run', arguments: {} }] }]);
      expect(await classifyReport(REPORT, { client })).toMatchObject({ status: 'needs_review', cause: 'schema_invalid' });
    });

    it('answers needs_review with cause model_error and the error code when the client throws', async () => {
      const client = new ScriptedModelClient([
        () => {
          throw new UserzError('model_unavailable', 'provider 503', { retryable: true });
        },
      ]);
      expect(await classifyReport(REPORT, { client })).toEqual({ status: 'needs_review', cause: 'model_error', detail: 'model_unavailable' });
    });
  });

  it('accepts one fenced JSON block, as some providers send', async () => {
    const client = new ScriptedModelClient([{ content: '```json\n{"label":"spam","confidence":0.8,"reason":"ad"}\n```' }]);
    expect(await classifyReport(REPORT, { client })).toMatchObject({ status: 'classified', classification: { label: 'spam' } });
  });
});
