import nock from 'nock';
import { AnthropicModelClient, createModelClient, type ModelRequest } from '../../src/model/index.js';

const BASE = 'https://anthropic.example.test';
const KEY = 'sk-ant-test-0000000000000000000000';

afterEach(() => nock.cleanAll());

const client = (maxRetries = 0) => new AnthropicModelClient({ apiKey: KEY, model: 'claude-test-model', baseUrl: BASE, maxRetries });

const REQUEST: ModelRequest = {
  system: 'You fix bugs.',
  messages: [
    { role: 'user', content: 'Fix the greeting.' },
    {
      role: 'assistant',
      content: 'Reading both files.',
      toolCalls: [
        { id: 'toolu_1', name: 'read_file', arguments: { path: 'a.js' } },
        { id: 'toolu_2', name: 'read_file', arguments: { path: 'b.js' } },
      ],
    },
    { role: 'tool', toolCallId: 'toolu_1', name: 'read_file', content: 'A' },
    { role: 'tool', toolCallId: 'toolu_2', name: 'read_file', content: 'B' },
  ],
  tools: [{ name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }],
  maxOutputTokens: 1024,
};

test('sends tools, tool uses and merged tool results in the messages shape, and maps the answer back', async () => {
  // SDK 1.x sends the API key as a bearer token.
  const api = nock(BASE, { reqheaders: { authorization: `Bearer ${KEY}` } })
    .post('/v1/messages', {
      model: 'claude-test-model',
      max_tokens: 1024,
      system: 'You fix bugs.',
      messages: [
        { role: 'user', content: 'Fix the greeting.' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Reading both files.' },
            { type: 'tool_use', id: 'toolu_1', name: 'read_file', input: { path: 'a.js' } },
            { type: 'tool_use', id: 'toolu_2', name: 'read_file', input: { path: 'b.js' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'A' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'B' },
          ],
        },
      ],
      tools: [
        { name: 'read_file', description: 'Read a file', input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
      ],
    })
    .reply(200, {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-test-model',
      content: [
        { type: 'text', text: 'Editing.' },
        { type: 'tool_use', id: 'toolu_3', name: 'edit_file', input: { path: 'a.js', search: 'A', replace: 'AA' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 200, output_tokens: 40, cache_read_input_tokens: 10, cache_creation_input_tokens: 0 },
    });

  expect(await client().complete(REQUEST)).toEqual({
    content: 'Editing.',
    toolCalls: [{ id: 'toolu_3', name: 'edit_file', arguments: { path: 'a.js', search: 'A', replace: 'AA' } }],
    usage: { inputTokens: 210, outputTokens: 40, cachedInputTokens: 10 },
    stopReason: 'tool_use',
  });
  expect(api.isDone()).toBe(true);
  expect(nock.pendingMocks()).toEqual([]);
});

test('structured output is a forced tool whose input becomes the JSON answer', async () => {
  const schema = { type: 'object', properties: { label: { type: 'string' } }, required: ['label'] };
  nock(BASE)
    .post('/v1/messages', {
      model: 'claude-test-small',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'classify' }],
      tools: [{ name: 'verdict', description: 'Give your answer by calling this tool; its input is the answer.', input_schema: schema }],
      tool_choice: { type: 'tool', name: 'verdict' },
    })
    .reply(200, {
      id: 'msg_2',
      type: 'message',
      role: 'assistant',
      model: 'claude-test-small',
      content: [{ type: 'tool_use', id: 'toolu_9', name: 'verdict', input: { label: 'spam' } }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 8 },
    });
  const response = await client().complete({
    model: 'claude-test-small',
    messages: [{ role: 'user', content: 'classify' }],
    responseSchema: { name: 'verdict', schema },
  });
  expect(response).toEqual({ content: '{"label":"spam"}', toolCalls: [], usage: { inputTokens: 20, outputTokens: 8 }, stopReason: 'end' });
  expect(nock.pendingMocks()).toEqual([]);
});

test('a structured answer without the forced tool is model_bad_response', async () => {
  nock(BASE)
    .post('/v1/messages')
    .reply(200, {
      id: 'msg_3',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [{ type: 'text', text: 'spam' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    });
  await expect(
    client().complete({ messages: [{ role: 'user', content: 'x' }], responseSchema: { name: 'verdict', schema: { type: 'object' } } }),
  ).rejects.toMatchObject({
    code: 'model_bad_response',
  });
  expect(nock.pendingMocks()).toEqual([]);
});

test('maps max_tokens and refusal stop reasons', async () => {
  for (const [stop, expected] of [
    ['max_tokens', 'max_tokens'],
    ['refusal', 'refusal'],
    ['end_turn', 'end'],
  ] as const) {
    nock(BASE)
      .post('/v1/messages')
      .reply(200, {
        id: 'm',
        type: 'message',
        role: 'assistant',
        model: 'm',
        content: [{ type: 'text', text: 't' }],
        stop_reason: stop,
        stop_sequence: null,
        usage: { input_tokens: 1, output_tokens: 1 },
      });
    expect(await client().complete({ messages: [{ role: 'user', content: 'x' }] })).toMatchObject({ content: 't', stopReason: expected });
  }
  expect(nock.pendingMocks()).toEqual([]);
});

describe('errors', () => {
  test.each([
    [429, 'model_rate_limited', true],
    [529, 'model_unavailable', true],
    [401, 'model_auth_failed', false],
    [400, 'model_request_rejected', false],
  ])('HTTP %i is %s (retryable %s)', async (status, code, retryable) => {
    nock(BASE)
      .post('/v1/messages')
      .reply(status, { type: 'error', error: { type: 'x', message: `bad key ${KEY}` } });
    const error = await client()
      .complete({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UserzError', code, retryable, details: { provider: 'anthropic', status } });
    expect(`${String((error as Error).message)}${JSON.stringify(error)}`).not.toContain(KEY);
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('a timeout is model_timeout', async () => {
    nock(BASE).post('/v1/messages').delay(500).reply(200, {});
    const slow = new AnthropicModelClient({ apiKey: KEY, model: 'm', baseUrl: BASE, maxRetries: 0, timeoutMs: 50 });
    await expect(slow.complete({ messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ code: 'model_timeout', retryable: true });
    expect(nock.pendingMocks()).toEqual([]);
  });
});

test('createModelClient builds the Anthropic client', () => {
  const created = createModelClient({ provider: 'anthropic', apiKey: KEY, model: 'claude-test-model', baseUrl: BASE });
  expect(created).toBeInstanceOf(AnthropicModelClient);
  expect(JSON.stringify(created)).not.toContain(KEY);
});
