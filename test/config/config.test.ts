import { describeConfig, loadConfig, ConfigError } from '../../src/config/index.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts on embedded defaults with no environment at all', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.database.kind).toBe('pglite');
    expect(c.cache).toEqual({ kind: 'memory' });
    expect(c.dataDir.endsWith('.userz')).toBe(true);
    expect(c.github).toBeUndefined();
    expect(c.model).toBeUndefined();
  });

  it('uses Postgres and Redis when their URLs are set', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/userz', REDIS_URL: 'redis://cache:6379' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u@db:5432/userz' });
    expect(c.cache).toEqual({ kind: 'redis', url: 'redis://cache:6379' });
  });

  it('names each bad variable', () => {
    const problems = problemsOf({ PORT: 'eighty', DATABASE_URL: 'mysql://x', DISCORD_PUBLIC_KEY: 'nothex' });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/DISCORD_PUBLIC_KEY/);
  });

  it('names the missing half of the GitHub App settings', () => {
    expect(problemsOf({ APP_ID: '42' }).join('\n')).toMatch(/PRIVATE_KEY or PRIVATE_KEY_PATH/);
    expect(problemsOf({ APP_ID: '42', PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----' }).join('\n')).toMatch(/WEBHOOK_SECRET/);
  });

  it('requires the key of the chosen model provider', () => {
    expect(problemsOf({ USERZ_MODEL_PROVIDER: 'anthropic' }).join('\n')).toMatch(/ANTHROPIC_API_KEY/);
  });

  it('describes what is configured without printing any secret value', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-test-very-secret', SLACK_SIGNING_SECRET: 'slack-secret-value' });
    const text = JSON.stringify(describeConfig(c));
    expect(text).toContain('openai');
    expect(text).not.toContain('sk-test-very-secret');
    expect(text).not.toContain('slack-secret-value');
    expect(describeConfig(c).map((l) => l.part)).toEqual(['database', 'cache', 'blobs', 'github', 'gitlab', 'slack', 'discord', 'model', 'sandbox']);
  });
});
