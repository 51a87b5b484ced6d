import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, describeConfig, loadConfig } from '../../src/config/index.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const APP = { APP_ID: '42', PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), WEBHOOK_SECRET: 'webhook-secret-0123456789' };
const INSTALL = { GITHUB_APP_SLUG: 'userz', GITHUB_CLIENT_ID: 'Iv1.abc', GITHUB_CLIENT_SECRET: 'client-secret-value' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('GitHub install-link settings', () => {
  it('are off when none is set', () => {
    expect(loadConfig(APP).github?.install).toBeUndefined();
  });

  it('are read together, the state key defaulting to the webhook secret', () => {
    expect(loadConfig({ ...APP, ...INSTALL }).github?.install).toEqual({
      slug: 'userz',
      clientId: 'Iv1.abc',
      clientSecret: 'client-secret-value',
      stateSecret: APP.WEBHOOK_SECRET,
    });
    expect(loadConfig({ ...APP, ...INSTALL, GITHUB_STATE_SECRET: 'a-separate-state-secret' }).github?.install?.stateSecret).toBe('a-separate-state-secret');
  });

  it('take the slug alone as the mention name, with install links off', () => {
    const github = loadConfig({ ...APP, GITHUB_APP_SLUG: 'userz-app' }).github;
    expect([github?.slug, github?.install]).toEqual(['userz-app', undefined]);
    expect(loadConfig({ ...APP, ...INSTALL }).github?.slug).toBe('userz');
    expect(loadConfig(APP).github?.slug).toBeUndefined();
  });

  it('say in the boot summary whether mentions ask', () => {
    const detail = (env: Record<string, string>, part: string) => describeConfig(loadConfig(env)).find((l) => l.part === part)?.detail;
    expect(detail({ ...APP, GITHUB_APP_SLUG: 'userz-app' }, 'github')).toContain('@userz-app mentions ask for follow-ups');
    expect(detail(APP, 'github')).toContain('no mentions (GITHUB_APP_SLUG unset)');
    expect(detail({ USERZ_GITLAB_BOT_USERNAME: 'userz-bot' }, 'gitlab')).toContain('@userz-bot mentions ask for follow-ups');
    expect(detail({}, 'gitlab')).toContain('no mentions (USERZ_GITLAB_BOT_USERNAME unset)');
  });

  it('name what is missing when only some are set', () => {
    const problems = problemsOf({ ...APP, GITHUB_CLIENT_ID: 'Iv1.abc' });
    expect(problems.join('\n')).toMatch(/GITHUB_APP_SLUG, GITHUB_CLIENT_SECRET required for GitHub install links/);
  });

  it('refuse a slug that is not one and a short state secret', () => {
    expect(problemsOf({ ...APP, ...INSTALL, GITHUB_APP_SLUG: 'a/b' }).join('\n')).toMatch(/GITHUB_APP_SLUG/);
    expect(problemsOf({ ...APP, ...INSTALL, GITHUB_STATE_SECRET: 'short' }).join('\n')).toMatch(/GITHUB_STATE_SECRET must be at least 16/);
  });
});

describe('GitLab bot username', () => {
  it('is read on its own and is off when unset', () => {
    expect(loadConfig({ USERZ_GITLAB_BOT_USERNAME: 'userz.bot' }).gitlab.botUsername).toBe('userz.bot');
    expect(loadConfig({}).gitlab.botUsername).toBeUndefined();
  });

  it('refuses what is no GitLab username', () => {
    for (const bad of ['@userz', 'user z', '-userz', 'userz.', 'a/b']) {
      expect([bad, problemsOf({ USERZ_GITLAB_BOT_USERNAME: bad }).join('\n')]).toEqual([bad, expect.stringMatching(/USERZ_GITLAB_BOT_USERNAME/)]);
    }
  });
});
