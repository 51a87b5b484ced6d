/**
 * What asks for a follow-up in a review text (issue 18): `/userz …` at the start, or a real
 * mention of the App (`@<slug>` on GitHub, `@<bot username>` on GitLab) anywhere.
 */
import fc from 'fast-check';
import { parseGitHubFollowUpEvent, parseGitLabFollowUpNote } from '../../src/forge/index.js';
import { mentionText, userzCommand } from '../../src/forge/review-command.js';
import { githubExample } from '../helpers/github.js';

const SLUG = 'userz-app';

describe('mentionText', () => {
  it('takes the mention out and keeps the words around it as the feedback', () => {
    expect(mentionText('@userz-app please handle negative prices', SLUG)).toBe('please handle negative prices');
    expect(mentionText('Could you @userz-app, keep the old rounding?', SLUG)).toBe('Could you keep the old rounding?');
    expect(mentionText('Looks close.\n@userz-app: also cover refunds\nThanks', SLUG)).toBe('Looks close.\nalso cover refunds\nThanks');
    expect(mentionText('Thanks @userz-app.', SLUG)).toBe('Thanks.');
    expect(mentionText('@userz-app', SLUG)).toBe('');
  });

  it('is case-insensitive, as logins are', () => {
    expect(mentionText('@Userz-APP fix it', SLUG)).toBe('fix it');
    expect(mentionText('@userz-app fix it', 'Userz-App')).toBe('fix it');
  });

  it('does not take a longer name, an address, a path or a team for the mention', () => {
    for (const body of [
      '@userz-app-other fix it',
      'write to foo@userz-app.com',
      'see @userz-app.com',
      '@userz-app/reviewers please look',
      'x_@userz-app fix',
      '@userz-app_two fix',
      'a/@userz-app fix',
      '@userz-ap fix',
      'userz-app fix',
      '@@userz-app fix',
    ]) {
      expect([body, mentionText(body, SLUG)]).toEqual([body, null]);
    }
  });

  it('does not count a mention in code or in a quoted line, which notify nobody or repeat an earlier ask', () => {
    expect(mentionText('`@userz-app` is the bot that opened this', SLUG)).toBeNull();
    expect(mentionText('```\n@userz-app fix\n```\nunrelated', SLUG)).toBeNull();
    expect(mentionText('> @userz-app handle negatives\nAgreed with the above.', SLUG)).toBeNull();
    // The code stays in the feedback when a real mention asks.
    expect(mentionText('@userz-app rename `total` to `sum`', SLUG)).toBe('rename `total` to `sum`');
  });

  it('is off without a handle', () => {
    expect(mentionText('@userz-app fix it', undefined)).toBeNull();
    expect(mentionText('@userz-app fix it', '')).toBeNull();
  });

  it('finds the mention whatever surrounds it, and never one glued into a longer name', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9 ,.!?\n]{0,20}$/);
    fc.assert(
      fc.property(word, word, (before, after) => {
        const body = `${before} @userz-app ${after}`;
        expect(mentionText(body, SLUG)).not.toBeNull();
        expect(mentionText(`${before} @userz-app-x${after}`, SLUG)).toBeNull();
        expect(mentionText(`${before}a@userz-app ${after}`, SLUG)).toBeNull();
      }),
    );
  });

  it('finds the mention after a long unclosed run of backticks', () => {
    expect(mentionText(`${'`'.repeat(100_000)} @userz-app fix`, SLUG)).toContain('fix');
  });
});

describe('parseGitHubFollowUpEvent with a mention', () => {
  function reviewComment(body: string, sender: Record<string, unknown> = { login: 'maint', id: 1001, type: 'User' }) {
    const payload = githubExample('pull_request_review_comment', 'created');
    payload.comment = { ...payload.comment, body, path: 'src/price.ts', line: 12 };
    payload.sender = { ...payload.sender, ...sender };
    return payload;
  }

  it('asks with the text around the mention, after the comment position', () => {
    const ask = parseGitHubFollowUpEvent('pull_request_review_comment', reviewComment('@userz-app round half up here'), { appSlug: SLUG });
    expect(ask).toMatchObject({ trigger: 'mention', text: 'src/price.ts:12: round half up here', author: { login: 'maint', id: 1001, isBot: false } });
  });

  it('asks nothing by mention without a slug, while /userz still asks', () => {
    expect(parseGitHubFollowUpEvent('pull_request_review_comment', reviewComment('@userz-app round half up here'))).toBeNull();
    expect(parseGitHubFollowUpEvent('pull_request_review_comment', reviewComment('/userz round half up here'))).toMatchObject({
      trigger: 'command',
      text: 'src/price.ts:12: round half up here',
    });
  });

  it('keeps /userz first when a comment is both', () => {
    expect(parseGitHubFollowUpEvent('pull_request_review_comment', reviewComment('/userz ping @userz-app'), { appSlug: SLUG })).toMatchObject({
      trigger: 'command',
      text: 'src/price.ts:12: ping @userz-app',
    });
  });

  it('a review requesting changes keeps its trigger, with the mention taken out of its text', () => {
    const payload = githubExample('pull_request_review', 'submitted', 1);
    payload.review = { ...payload.review, state: 'changes_requested', body: '@userz-app also handle zero' };
    expect(parseGitHubFollowUpEvent('pull_request_review', payload, { appSlug: SLUG })).toMatchObject({
      trigger: 'changes_requested',
      text: 'also handle zero',
    });
    payload.review.state = 'commented';
    expect(parseGitHubFollowUpEvent('pull_request_review', payload, { appSlug: SLUG })).toMatchObject({ trigger: 'mention', text: 'also handle zero' });
    payload.review.body = 'ask @userz-app-other';
    expect(parseGitHubFollowUpEvent('pull_request_review', payload, { appSlug: SLUG })).toBeNull();
  });

  it("marks the App's own account as a bot even if its type were missing", () => {
    const ask = parseGitHubFollowUpEvent(
      'pull_request_review_comment',
      reviewComment('@userz-app progress', { login: 'Userz-App[bot]', id: 9, type: 'User' }),
      {
        appSlug: SLUG,
      },
    );
    expect(ask?.author.isBot).toBe(true);
  });
});

describe('parseGitLabFollowUpNote with a mention', () => {
  const note = (username: string, text: string, extra: Record<string, unknown> = {}) => ({
    object_kind: 'note',
    user: { id: 501, username, ...extra },
    project: { id: 42 },
    object_attributes: { id: 1, note: text, noteable_type: 'MergeRequest', system: false },
    merge_request: { iid: 3, source_project_id: 42, target_project_id: 42 },
  });

  it('asks by the configured bot name, and not without one', () => {
    expect(parseGitLabFollowUpNote(note('dev', 'thanks @userz-bot, now the refunds'), { botUsername: 'userz-bot' })).toMatchObject({
      trigger: 'mention',
      text: 'thanks now the refunds',
      author: { login: 'dev', isBot: false },
    });
    expect(parseGitLabFollowUpNote(note('dev', 'thanks @userz-bot, now the refunds'))).toBeNull();
    expect(parseGitLabFollowUpNote(note('dev', '/userz now the refunds'))).toMatchObject({ trigger: 'command', text: 'now the refunds' });
    expect(parseGitLabFollowUpNote(note('dev', 'cc @userz-bot.old'), { botUsername: 'userz-bot' })).toBeNull();
  });

  it('a note by the bot name itself, or by a project token bot, is a bot', () => {
    expect(parseGitLabFollowUpNote(note('Userz-Bot', '@userz-bot progress'), { botUsername: 'userz-bot' })?.author.isBot).toBe(true);
    expect(parseGitLabFollowUpNote(note('project_42_bot_1a2b', '@userz-bot progress'), { botUsername: 'userz-bot' })?.author.isBot).toBe(true);
  });
});

describe('userzCommand', () => {
  it('is a command only at the start', () => {
    expect(userzCommand('/userz fix it')).toBe('fix it');
    expect(userzCommand('please /userz fix it')).toBeNull();
  });
});
