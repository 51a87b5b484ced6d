import nock from 'nock';
import { createModelClient, OpenAIModelClient, type ModelRequest } from '../../src/model/index.js';

const BASE = 'https://openai.example.test';
const KEY = 'sk-test-openai-0000000000000000';

afterEach(() => nock.cleanAll());

const client = (maxRetries = 0) => new OpenAIModelClient({ apiKey: KEY, model: 'gpt-4o', baseUrl: `${BASE}/v1`, maxRetries });

const REQUEST: ModelRequest = {
  system: 'You fix bugs.',
  messages: [
    { role: 'user', content: 'Fix the greeting.' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'read_file', arguments: { path: 'src/app.js' } }] },
    { role: 'tool', toolCallId: 'call_1', name: 'read_file', content: 'export const greeting = "helo";' },
  ],
  tools: [{ name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }],
  maxOutputTokens: 512,
};

test('sends messages, tool calls, tool results and tools in the chat completions shape', async () => {
  const api = nock(BASE, { reqheaders: { authorization: `Bearer ${KEY}` } })
    .post('/v1/chat/completions', {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You fix bugs.' },
        { role: 'user', content: 'Fix the greeting.' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"src/app.js"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'export const greeting = "helo";' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'read_file',
            description: 'Read a file',
            parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
          },
        },
      ],
      max_completion_tokens: 512,
    })
    .reply(200, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_2', type: 'function', function: { name: 'edit_file', arguments: '{"path":"src/app.js","search":"helo","replace":"hello"}' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 },
    });

  const response = await client().complete(REQUEST);

  expect(response).toEqual({
    content: '',
    toolCalls: [{ id: 'call_2', name: 'edit_file', arguments: { path: 'src/app.js', search: 'helo', replace: 'hello' } }],
    usage: { inputTokens: 120, outputTokens: 30 },
    stopReason: 'tool_use',
  });
  expect(api.isDone()).toBe(true);
  expect(nock.pendingMocks()).toEqual([]);
});

test('asks for JSON-schema structured output when a response schema is set', async () => {
  const schema = { type: 'object', properties: { label: { type: 'string' } }, required: ['label'], additionalProperties: false };
  nock(BASE)
    .post('/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'classify' }],
      response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema, strict: true } },
    })
    .reply(200, {
      id: 'chatcmpl-2',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '{"label":"benign"}' } }],
      usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
    });
  const response = await client().complete({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'classify' }],
    responseSchema: { name: 'verdict', schema },
  });
  expect(response).toEqual({ content: '{"label":"benign"}', toolCalls: [], usage: { inputTokens: 5, outputTokens: 4 }, stopReason: 'end' });
  expect(nock.pendingMocks()).toEqual([]);
});

test('maps length and refusal finishes', async () => {
  nock(BASE)
    .post('/v1/chat/completions')
    .reply(200, {
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, finish_reason: 'length', message: { role: 'assistant', content: 'partial' } }],
    })
    .post('/v1/chat/completions')
    .reply(200, {
      id: 'y',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' } }],
    });
  expect(await client().complete({ messages: [{ role: 'user', content: 'a' }] })).toMatchObject({
    content: 'partial',
    stopReason: 'max_tokens',
    usage: { inputTokens: 0, outputTokens: 0 },
  });
  expect(await client().complete({ messages: [{ role: 'user', content: 'b' }] })).toMatchObject({ content: 'I cannot help with that.', stopReason: 'refusal' });
  expect(nock.pendingMocks()).toEqual([]);
});

describe('errors become UserzErrors without the provider message', () => {
  test.each([
    [429, 'model_rate_limited', true],
    [401, 'model_auth_failed', false],
    [403, 'model_auth_failed', false],
    [400, 'model_request_rejected', false],
    [500, 'model_unavailable', true],
    [408, 'model_timeout', true],
  ])('HTTP %i is %s (retryable %s)', async (status, code, retryable) => {
    nock(BASE)
      .post('/v1/chat/completions')
      .reply(status, { error: { message: `Incorrect API key provided: ${KEY.slice(0, 8)}****${KEY.slice(-4)}`, type: 'x', code: 'x' } });
    const error = await client()
      .complete({ messages: [{ role: 'user', content: 'a' }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UserzError', code, retryable, details: { provider: 'openai', status } });
    expect(JSON.stringify(error) + String((error as Error).message)).not.toContain(KEY.slice(-4));
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('SDK retries are bounded by maxRetries', async () => {
    nock(BASE)
      .post('/v1/chat/completions')
      .times(2)
      .reply(429, { error: { message: 'slow down' } }, { 'retry-after-ms': '1' });
    await expect(client(1).complete({ messages: [{ role: 'user', content: 'a' }] })).rejects.toMatchObject({ code: 'model_rate_limited' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('a timeout is model_timeout and retryable', async () => {
    nock(BASE).post('/v1/chat/completions').delay(500).reply(200, {});
    const slow = new OpenAIModelClient({ apiKey: KEY, model: 'gpt-4o', baseUrl: `${BASE}/v1`, maxRetries: 0, timeoutMs: 50 });
    await expect(slow.complete({ messages: [{ role: 'user', content: 'a' }] })).rejects.toMatchObject({ code: 'model_timeout', retryable: true });
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('an abort signal is model_aborted', async () => {
    const controller = new AbortController();
    // Abort once the request has reached the provider, before its answer arrives.
    nock(BASE)
      .post('/v1/chat/completions')
      .delay(500)
      .reply(() => {
        controller.abort();
        return [200, {}];
      });
    const pending = client().complete({ messages: [{ role: 'user', content: 'a' }] }, { signal: controller.signal });
    await expect(pending).rejects.toMatchObject({ code: 'model_aborted' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('tool arguments that are not JSON are model_bad_response', async () => {
    nock(BASE)
      .post('/v1/chat/completions')
      .reply(200, {
        id: 'z',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'git', arguments: '{"args": [' } }] },
          },
        ],
      });
    await expect(client().complete({ messages: [{ role: 'user', content: 'a' }] })).rejects.toMatchObject({ code: 'model_bad_response', retryable: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('an answer without choices is model_bad_response', async () => {
    nock(BASE).post('/v1/chat/completions').reply(200, { id: 'z', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [] });
    await expect(client().complete({ messages: [{ role: 'user', content: 'a' }] })).rejects.toMatchObject({ code: 'model_bad_response' });
    expect(nock.pendingMocks()).toEqual([]);
  });
});

test('createModelClient builds the OpenAI client and never exposes the key when serialised', () => {
  const created = createModelClient({ provider: 'openai', apiKey: KEY, model: 'gpt-4o', baseUrl: `${BASE}/v1` });
  expect(created).toBeInstanceOf(OpenAIModelClient);
  expect(created.model).toBe('gpt-4o');
  expect(JSON.stringify(created)).toBe('{"provider":"openai","model":"gpt-4o"}');
  expect(() => createModelClient({ provider: 'nope' as 'openai', apiKey: KEY, model: 'x' })).toThrow(
    expect.objectContaining({ code: 'model_provider_unknown' }),
  );
});
